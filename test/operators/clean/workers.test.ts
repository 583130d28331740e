// The cleaning kernels on worker threads: same rows as inline, and the drop reasons and counters a
// kernel reports from its thread reach the operator's stats (they travel as batch metadata).
import type { RecordBatch } from 'apache-arrow';
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeContext } from '../../../src/core/context.ts';
import { KERNEL_STATS_KEY } from '../../../src/core/kernel-stats.ts';
import { WorkerPool } from '../../../src/runtime/worker-pool.ts';
import { extractHtml } from '../../../operators/clean/extract-html.ts';
import { language } from '../../../operators/clean/language.ts';
import { pii } from '../../../operators/clean/pii.ts';
import { quality } from '../../../operators/clean/quality.ts';
import { emails, pgPages, runOp, sotu, textBatch } from './real-data.ts';

let pool: WorkerPool;
beforeAll(() => {
  pool = new WorkerPool({ size: 2 });
});
afterAll(async () => {
  await pool.close();
});

const rowsOf = (bs: RecordBatch[]) => bs.flatMap((b) => b.toArray().map((r) => r.toJSON() as Record<string, unknown>));

async function onWorkers(op: Parameters<WorkerPool['map']>[0], config: unknown, batches: RecordBatch[]) {
  const ctx = makeContext('workers');
  const out = await lastValueFrom(from(batches).pipe(pool.map(op, config, { ctx }), toArray()));
  return { rows: rowsOf(out), batches: out, stats: ctx.stats.snapshot() };
}

describe('cleaning operators on the worker pool', () => {
  const mails = emails('spam-2', 120).map((m) => m.text);
  const mixed = [
    ...sotu()
      .slice(0, 30)
      .map((d) => d.text),
    ...mails.slice(0, 60),
  ];
  const batches = [textBatch(mixed.slice(0, 45)), textBatch(mixed.slice(45))];

  it('quality: same rows and the same drop reasons as inline', async () => {
    const inline = await runOp(quality, {}, batches);
    const threaded = await onWorkers(quality, {}, batches);
    expect(threaded.rows).toEqual(inline.rows);
    expect(threaded.stats.dropReasons).toEqual(inline.stats.dropReasons);
    expect(threaded.stats.dropped).toBeGreaterThan(10);
    expect(threaded.stats.counters).toEqual(inline.stats.counters);
    for (const b of threaded.batches) expect(b.schema.metadata.has(KERNEL_STATS_KEY)).toBe(false);
  });

  it('pii and language: counters and drops cross the thread boundary', async () => {
    const b = [textBatch(mails.slice(0, 60)), textBatch(mails.slice(60))];
    const inline = await runOp(pii, {}, b);
    const threaded = await onWorkers(pii, {}, b);
    expect(threaded.rows).toEqual(inline.rows);
    expect(threaded.stats.counters).toEqual(inline.stats.counters);
    expect(threaded.stats.counters!['pii.email']).toBeGreaterThan(100);
    const lang = await onWorkers(language, { allowed: ['en'] }, batches);
    expect(lang.stats.dropReasons).toEqual((await runOp(language, { allowed: ['en'] }, batches)).stats.dropReasons);
  });

  it('extract-html: the fallback counter and drops from threads', async () => {
    const pages = [
      ...pgPages()
        .slice(0, 20)
        .map((p) => p.html),
      '<not really html',
      'plain',
    ];
    const threaded = await onWorkers(extractHtml, {}, [textBatch(pages)]);
    const inline = await runOp(extractHtml, {}, [textBatch(pages)]);
    expect(threaded.rows).toEqual(inline.rows);
    expect(threaded.stats.dropReasons).toEqual({ 'extract.parse_error': 1, 'extract.not_html': 1 });
  });
});
