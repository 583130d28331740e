import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Int32, Utf8, type RecordBatch } from 'apache-arrow';
import { from, lastValueFrom, toArray } from 'rxjs';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeContext } from '../../src/core/context.ts';
import { defineSource } from '../../src/core/operator.ts';
import { runPipeline } from '../../src/runtime/run.ts';
import { WorkerPool } from '../../src/runtime/worker-pool.ts';
import { batchFromColumns, schemaOf } from '../../src/schema/index.ts';
import { readText } from '../../operators/ingest/read-text.ts';
import { normalize } from '../../operators/clean/normalize.ts';
import { writeJsonl } from '../../operators/io/write-jsonl.ts';
import { sotuTexts } from '../../operators/ingest/embedded-corpus.ts';
import { crashOn, failOn, minLength, sleepy } from '../fixtures/worker-ops.ts';

const rowsOf = (bs: RecordBatch[]) => bs.flatMap((b) => b.toArray().map((r) => r.toJSON() as Record<string, unknown>));
const sotuSubset = [sotuTexts().replace('*.txt', '180?_*.txt'), sotuTexts().replace('*.txt', '181?_*.txt')];
const readSotu = (paths = [sotuTexts()], batchRows = 16) =>
  lastValueFrom(readText({ paths, batchRows }).pipe(toArray()));

type Delayed = { seq: Int32; delay_ms: Int32; text: Utf8 };
const delayedSchema = () =>
  schemaOf<Delayed>({ seq: { type: new Int32() }, delay_ms: { type: new Int32() }, text: { type: new Utf8() } });
const delayed = (delays: number[]) =>
  delays.map((ms, i) =>
    batchFromColumns(delayedSchema(), { seq: [i, i], delay_ms: [ms, ms], text: [`batch ${i}`, 'x'] }),
  );

/** A source of `n` batches, each asking the sleepy operator for `ms` of work. */
const delaySource = defineSource({
  id: 'test/delays',
  description: 'test: n batches with a per-batch delay',
  config: z.object({ n: z.number().int(), ms: z.number().int() }),
  output: delayedSchema,
  async *make(cfg) {
    for (const b of delayed(new Array<number>(cfg.n).fill(cfg.ms))) yield b;
  },
});

let pool: WorkerPool;
let dir: string;
beforeAll(() => {
  pool = new WorkerPool({ size: 2 });
  dir = mkdtempSync(join(tmpdir(), 'flowlm-workers-'));
});
afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('WorkerPool', () => {
  it('keeps input order when batches finish out of order, on at most `concurrency` threads each sent `depth` batches ahead', async () => {
    const delays = [150, 5, 5, 5, 150, 5, 5, 5];
    const ctx = makeContext('sleepy');
    let peak = 0;
    const probe = setInterval(() => {
      peak = Math.max(peak, ctx.stats.queue);
    }, 2);
    const out = await lastValueFrom(
      from(delayed(delays)).pipe(pool.map(sleepy, {}, { concurrency: 2, ctx }), toArray()),
    );
    clearInterval(probe);
    const rows = rowsOf(out).filter((_, i) => i % 2 === 0);
    expect(rows.map((r) => r.seq)).toEqual(delays.map((_, i) => i));
    expect(new Set(rows.map((r) => r.thread)).size).toBe(2);
    // a later batch finished before an earlier one: the order was restored, not merely kept
    expect(rows.some((r, i) => i > 0 && (r.finished_at as number) < (rows[i - 1]!.finished_at as number))).toBe(true);
    expect(peak).toBeLessThanOrEqual(2 * pool.depth);
    expect(ctx.stats.batchesIn).toBe(delays.length);
    expect(ctx.stats.batchesOut).toBe(delays.length);
    expect(ctx.stats.queue).toBe(0);
  });

  it('keeps a kernel limited to one thread on one thread, its next batch queued there', async () => {
    const ctx = makeContext('sleepy-1');
    let peak = 0;
    const probe = setInterval(() => {
      peak = Math.max(peak, ctx.stats.queue);
    }, 2);
    const out = await lastValueFrom(
      from(delayed([30, 30, 30, 30, 30])).pipe(pool.map(sleepy, {}, { concurrency: 1, ctx }), toArray()),
    );
    clearInterval(probe);
    const rows = rowsOf(out).filter((_, i) => i % 2 === 0);
    expect(rows.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(rows.map((r) => r.thread)).size).toBe(1);
    expect(peak).toBe(pool.depth); // a batch waited in the thread behind the running one
  });

  it('gives a batch waiting behind a long one to a thread that ran out of work', async () => {
    // batches 0 and 2 go to the first thread (2 behind 0), 1 and 3 to the second; the second is done
    // with both long before batch 0, and no batch is left to send: batch 2 is taken back and runs there
    await lastValueFrom(from(delayed([50, 50])).pipe(pool.map(sleepy, {}, { concurrency: 2 }), toArray())); // both threads up
    const out = await lastValueFrom(
      from(delayed([400, 5, 5, 5])).pipe(pool.map(sleepy, {}, { concurrency: 2 }), toArray()),
    );
    const rows = rowsOf(out).filter((_, i) => i % 2 === 0);
    expect(rows.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(rows[1]!.thread).not.toBe(rows[0]!.thread);
    expect(rows[2]!.thread).toBe(rows[1]!.thread);
    expect(rows[2]!.finished_at as number).toBeLessThan(rows[0]!.finished_at as number);
  });

  it('gives the same result as the inline kernel on the sotu corpus', async () => {
    const batches = await readSotu();
    const inline = rowsOf(await lastValueFrom(from(batches).pipe(normalize({ form: 'NFKC' }), toArray())));
    const out = await lastValueFrom(from(batches).pipe(pool.map(normalize, { form: 'NFKC' }), toArray()));
    const threaded = rowsOf(out);
    expect(threaded).toEqual(inline);
    expect(out[0]!.schema.fields.map(String)).toEqual(batches[0]!.schema.fields.map(String));
    // the kernel really ran: some speeches change under NFKC and whitespace clean-up
    const original = rowsOf(batches);
    expect(threaded.filter((r, i) => r.text !== original[i]!.text).length).toBeGreaterThan(0);
  });

  it('also runs an operator named by module and id, validating its config in the worker', async () => {
    const batches = (await readSotu(sotuSubset, 4)).slice(0, 2);
    const ref = { module: new URL('../../operators/clean/normalize.ts', import.meta.url).href, id: 'clean/normalize' };
    const out = await lastValueFrom(from(batches).pipe(pool.map(ref, { form: 'NFKC' }), toArray()));
    expect(rowsOf(out)).toEqual(
      rowsOf(await lastValueFrom(from(batches).pipe(normalize({ form: 'NFKC' }), toArray()))),
    );
    const bad = lastValueFrom(from(batches).pipe(pool.map(ref, { form: 'NFX' }), toArray()));
    await expect(bad).rejects.toThrow(/\[clean\/normalize\] at batch 0: .*config\.form/s);
  });

  it('rebuilds a kernel its thread dropped to keep the last 8, from the spec sent the first time', async () => {
    const batches = (await readSotu(sotuSubset, 4)).slice(0, 1);
    const configs = (['NFC', 'NFKC', 'none'] as const).flatMap((form) =>
      [false, true].flatMap((quotes) => [false, true].map((dashes) => ({ form, quotes, dashes }))),
    );
    expect(configs.length).toBeGreaterThan(8);
    const one = new WorkerPool({ size: 1 });
    try {
      const run = (cfg: (typeof configs)[number]) =>
        lastValueFrom(from(batches).pipe(one.map(normalize, cfg), toArray()));
      const first = rowsOf(await run(configs[0]!));
      for (const cfg of configs.slice(1)) await run(cfg);
      expect(rowsOf(await run(configs[0]!))).toEqual(first); // evicted by now, so built again
      expect(first).toEqual(rowsOf(await lastValueFrom(from(batches).pipe(normalize(configs[0]!), toArray()))));
    } finally {
      await one.close();
    }
  });

  it('runs a pipeline node with workers: 2 and writes what the inline run writes', async () => {
    const spec = (workers: number, path: string) => ({
      steps: [
        { id: 'read', op: readText, config: { paths: [sotuTexts()], batchRows: 8 } },
        { id: 'normalize', op: normalize, workers, config: { form: 'NFKC' } },
        { id: 'write', op: writeJsonl, config: { path } },
      ],
    });
    const inline = await runPipeline(spec(0, join(dir, 'inline.jsonl')));
    const threaded = await runPipeline(spec(2, join(dir, 'threaded.jsonl')), { pool });
    expect(inline.ok).toBe(true);
    expect(threaded.ok).toBe(true);
    expect(readFileSync(join(dir, 'threaded.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'inline.jsonl'), 'utf8'));
    const n = threaded.nodes.normalize!;
    expect(n.rowsIn).toBe(inline.nodes.read!.rowsOut);
    expect(n.rowsOut).toBe(n.rowsIn);
    expect(n.batchesOut).toBe(n.batchesIn);
    expect(n.queue).toBe(0);
    expect(threaded.sources.read!.inFlight).toBe(0); // every credit came back
    expect(pool.threads).toBe(2);
  });

  it('drops batches a kernel emptied and records its stats as the inline run does', async () => {
    const batches = await readSotu(sotuSubset, 2);
    const lengths = rowsOf(batches)
      .map((r) => (r.text as string).length)
      .sort((a, b) => a - b);
    const minChars = lengths[Math.floor(lengths.length / 2)]!;
    const emptied = batches.filter((b) => [...b.getChild('text')!].every((t) => (t?.length ?? 0) < minChars)).length;
    expect(emptied).toBeGreaterThan(0);
    const spec = (workers: number, path: string) => ({
      steps: [
        { id: 'read', op: readText, config: { paths: sotuSubset, batchRows: 2 } },
        { id: 'len', op: minLength, workers, config: { minChars } },
        { id: 'write', op: writeJsonl, config: { path } },
      ],
    });
    const inline = await runPipeline(spec(0, join(dir, 'len-inline.jsonl')));
    const threaded = await runPipeline(spec(2, join(dir, 'len-threaded.jsonl')), { pool });
    expect(threaded.ok).toBe(true);
    expect(readFileSync(join(dir, 'len-threaded.jsonl'), 'utf8')).toBe(
      readFileSync(join(dir, 'len-inline.jsonl'), 'utf8'),
    );
    const [a, b] = [inline.nodes.len!, threaded.nodes.len!];
    expect(b.dropReasons).toEqual(a.dropReasons);
    expect(b.dropReasons.short).toBeGreaterThan(0);
    expect(b.counters).toEqual(a.counters);
    expect(b.counters?.kept_chars).toBeGreaterThan(0);
    expect(b.batchesOut).toBe(batches.length - emptied);
    expect(b.rowsOut).toBe(a.rowsOut);
    expect(threaded.sources.read!.inFlight).toBe(0);
  });

  it('reports a kernel error with the node id, the batch and the row the kernel named', async () => {
    const batches = await readSotu(sotuSubset, 2);
    const marker = 'Louisiana';
    const batch = batches.findIndex((b) => [...b.getChild('text')!].some((t) => t?.includes(marker)));
    const row = [...batches[batch]!.getChild('text')!].findIndex((t) => t?.includes(marker));
    expect(batch).toBeGreaterThan(0);
    const spec = (flowError: boolean) => ({
      steps: [
        { id: 'read', op: readText, config: { paths: sotuSubset, batchRows: 2 } },
        { id: 'check', op: failOn, workers: 2, config: { marker, flowError } },
      ],
    });
    const flow = await runPipeline(spec(true), { pool });
    expect(flow.ok).toBe(false);
    expect(flow.error).toMatchObject({ operator: 'check', location: { batch, row, field: 'text' } });
    expect(flow.error!.message).toContain(`found marker "${marker}"`);
    const plain = await runPipeline(spec(false), { pool });
    expect(plain.error).toMatchObject({ operator: 'check', location: { batch } });
    expect(plain.error!.message).toBe(`[check] at batch ${batch}: plain failure on "${marker}"`);
  });

  it('fails the run with a clear error when a worker thread dies', async () => {
    const batches = await readSotu(sotuSubset, 2);
    const marker = 'Louisiana';
    const batch = batches.findIndex((b) => [...b.getChild('text')!].some((t) => t?.includes(marker)));
    const result = await runPipeline(
      {
        steps: [
          { id: 'read', op: readText, config: { paths: sotuSubset, batchRows: 2 } },
          { id: 'boom', op: crashOn, workers: 2, config: { marker } },
        ],
      },
      { pool },
    );
    expect(result.ok).toBe(false);
    expect(result.error).toMatchObject({ operator: 'boom', location: { batch } });
    expect(result.error!.message).toMatch(/worker thread crashed \(exit code 7\)/);
    // the pool replaces the dead thread for later work
    const out = await lastValueFrom(from(batches.slice(0, 1)).pipe(pool.map(normalize), toArray()));
    expect(out[0]!.numRows).toBe(batches[0]!.numRows);
  });

  it('on cancellation finishes the batches in flight, emits them, and starts no new ones', async () => {
    const own = new WorkerPool({ size: 2 });
    const ac = new AbortController();
    const path = join(dir, 'cancelled.jsonl');
    const n = 100;
    const result = await runPipeline(
      {
        budget: { maxInFlight: 4 },
        steps: [
          { id: 'src', op: delaySource, config: { n, ms: 40 } },
          { id: 'slow', op: sleepy, workers: 2, config: {} },
          { id: 'write', op: writeJsonl, config: { path } },
        ],
      },
      {
        pool: own,
        signal: ac.signal,
        progressMs: 5,
        onProgress: (p) => {
          if ((p.nodes.slow?.batchesOut ?? 0) >= 3) ac.abort(new Error('test stop'));
        },
      },
    );
    expect(result.cancelled).toBe(true);
    expect(result.ok).toBe(false);
    const slow = result.nodes.slow!;
    expect(slow.batchesIn).toBeLessThan(n);
    expect(slow.batchesOut).toBe(slow.batchesIn); // nothing taken was lost
    expect(result.nodes.write!.batchesIn).toBe(slow.batchesOut);
    expect(result.sinks[0]!.cancelled).toBe(true);
    expect(existsSync(path)).toBe(false);
    const t0 = performance.now();
    await own.close();
    expect(own.threads).toBe(0);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('close() does not wait forever for a busy worker', async () => {
    const own = new WorkerPool({ size: 1, closeTimeoutMs: 200 });
    const task = own.run(
      { module: sleepy.def.module!, id: sleepy.def.id, config: {}, parsed: true },
      delayed([20_000])[0]!,
    );
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    await own.close();
    expect(performance.now() - t0).toBeLessThan(5000);
    await expect(task).rejects.toThrow(/closed/);
    expect(own.threads).toBe(0);
    await expect(
      own.run({ module: sleepy.def.module!, id: sleepy.def.id, config: {}, parsed: true }, delayed([0])[0]!),
    ).rejects.toThrow(/closed/);
  });

  it('lets a plain `node --import tsx` process exit, even with a pool left open', async () => {
    const script = fileURLToPath(new URL('../fixtures/worker-exit-script.ts', import.meta.url));
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = execFile(
          process.execPath,
          ['--import', 'tsx', script],
          { timeout: 60_000 },
          (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
        );
      },
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const line = JSON.parse(stdout.trim().split('\n').pop()!) as {
      ok: boolean;
      rowsOut: number;
      direct: number;
      threads: number;
    };
    expect(line).toMatchObject({ ok: true, threads: 1 });
    expect(line.rowsOut).toBe(10);
    expect(line.direct).toBe(10);
  });
});
