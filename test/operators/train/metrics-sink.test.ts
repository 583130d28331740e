// train/metrics-sink: the JSONL log is there row for row while the run goes on, the Parquet file
// (read back with hyparquet) holds the same rows when the stream ends, whether it completed, was
// cancelled, unsubscribed or failed; resuming keeps the log up to the resume step; NaN and Infinity
// survive both formats.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { from, lastValueFrom, Subject, throwError, concat, type Observable } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { writeMetrics } from '../../../operators/train/metrics-sink.ts';
import type { SinkResult } from '../../../src/core/sink.ts';
import { batchFromColumns, docSchema } from '../../../src/schema/index.ts';
import { metricRows, metricsBatch, type MetricRow } from '../../../src/schema/metrics.ts';

const root = mkdtempSync(join(tmpdir(), 'flowlm-metrics-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `run-${n++}`);

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
/** A training-like log: train loss/lr/grad-norm every step, validation loss every 5 steps. */
function report(step: number) {
  const train = {
    step,
    split: 'train',
    time: T0 + step * 1000,
    values: {
      loss: 10 * Math.exp(-step / 7) + 0.1 * Math.sin(step),
      lr: 3e-4 * Math.min(1, step / 4),
      grad_norm: 1 / (step + 1),
    },
  };
  return step % 5 === 0
    ? [train, { step, split: 'val', time: T0 + step * 1000 + 1, values: { loss: 10 * Math.exp(-step / 8) } }]
    : [train];
}
const batches = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => metricsBatch(report(from + i)));
const expected = (from: number, to: number): MetricRow[] => batches(from, to).flatMap(metricRows);

const jsonlRows = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
async function parquetRows(dir: string): Promise<MetricRow[]> {
  const buf = readFileSync(join(dir, 'metrics.parquet'));
  const rows = (await parquetReadObjects({
    file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length),
  })) as Array<{ step: bigint; split: string; name: string; value: number; time: Date }>;
  return rows.map((r) => ({
    step: Number(r.step),
    split: r.split,
    name: r.name,
    value: r.value,
    time: r.time.getTime(),
  }));
}
const run = (
  src: Observable<ReturnType<typeof metricsBatch>>,
  config: Parameters<typeof writeMetrics>[0],
  signal?: AbortSignal,
) => lastValueFrom(src.pipe(writeMetrics(config, { log: () => undefined, ...(signal ? { signal } : {}) })));
const until = async (cond: () => boolean) => {
  const end = Date.now() + 10_000;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('train/metrics-sink', () => {
  it('builds Metrics batches from step reports: one row per metric, Int64 steps, dictionary names', () => {
    const b = metricsBatch([
      { step: 12, split: 'train', values: { loss: 2.5, lr: 1e-3 }, time: new Date(T0) },
      { step: 12, split: 'val', values: { loss: 2.75 }, time: T0 },
    ]);
    expect(b.schema.fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual([
      'step: Int64',
      'split: Dictionary<Int32, Utf8>',
      'name: Dictionary<Int32, Utf8>',
      'value: Float64',
      'time: Timestamp<MILLISECOND>',
    ]);
    expect(metricRows(b)).toEqual([
      { step: 12, split: 'train', name: 'loss', value: 2.5, time: T0 },
      { step: 12, split: 'train', name: 'lr', value: 1e-3, time: T0 },
      { step: 12, split: 'val', name: 'loss', value: 2.75, time: T0 },
    ]);
    expect(() => metricsBatch({ step: 1.5, split: 'train', values: { loss: 1 } })).toThrow(
      /step must be a non-negative integer, got 1.5/,
    );
  });

  it('appends each batch to the JSONL log as it arrives and writes the same rows as Parquet at the end', async () => {
    const dir = fresh();
    const src = new Subject<ReturnType<typeof metricsBatch>>();
    const done = run(src, { dir });
    const all = batches(1, 12);
    for (const [i, b] of all.entries()) {
      src.next(b);
      const want = all.slice(0, i + 1).flatMap(metricRows);
      await until(
        () =>
          existsSync(join(dir, 'metrics.jsonl')) &&
          readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n').length === want.length + 1,
      );
      expect(jsonlRows(dir)).toEqual(want);
      expect(existsSync(join(dir, 'metrics.parquet'))).toBe(false);
    }
    src.complete();
    const result: SinkResult = await done;
    expect(result).toMatchObject({
      rows: expected(1, 12).length,
      batches: 12,
      cancelled: false,
      files: [join(dir, 'metrics.jsonl'), join(dir, 'metrics.parquet')],
    });
    expect(await parquetRows(dir)).toEqual(expected(1, 12));
  });

  it('keeps NaN and Infinity in both files (as strings in JSON, as doubles in Parquet)', async () => {
    const dir = fresh();
    await run(
      from([
        metricsBatch({
          step: 3,
          split: 'train',
          time: T0,
          values: { loss: Number.NaN, grad_norm: Infinity, scale: -Infinity, zero: -0 },
        }),
      ]),
      { dir },
    );
    expect(jsonlRows(dir).map((r) => r.value)).toEqual(['NaN', 'Infinity', '-Infinity', -0]);
    expect((await parquetRows(dir)).map((r) => r.value)).toEqual([Number.NaN, Infinity, -Infinity, -0]);
  });

  it('still writes the Parquet of what was completed when the run is cancelled, unsubscribed or fails', async () => {
    // cancelled: the signal is aborted and the stream ends
    const cancelled = fresh();
    const ac = new AbortController();
    const src = new Subject<ReturnType<typeof metricsBatch>>();
    const done = run(src, { dir: cancelled }, ac.signal);
    for (const b of batches(1, 4)) src.next(b);
    ac.abort();
    src.complete();
    expect(await done).toMatchObject({
      cancelled: true,
      files: [join(cancelled, 'metrics.jsonl'), join(cancelled, 'metrics.parquet')],
    });
    expect(await parquetRows(cancelled)).toEqual(expected(1, 4));

    // failed upstream: the error goes on, the Parquet holds the rows before it
    const failed = fresh();
    await expect(
      run(
        concat(
          from(batches(1, 6)),
          throwError(() => new Error('loss diverged')),
        ),
        { dir: failed },
      ),
    ).rejects.toThrow('loss diverged');
    await until(() => existsSync(join(failed, 'metrics.parquet')));
    expect(await parquetRows(failed)).toEqual(expected(1, 6));

    // unsubscribed mid-run (a consumer gave up)
    const dropped = fresh();
    const src2 = new Subject<ReturnType<typeof metricsBatch>>();
    const sub = src2.pipe(writeMetrics({ dir: dropped }, { log: () => undefined })).subscribe();
    for (const b of batches(1, 3)) src2.next(b);
    // complete lines only: the sink may be part-way through appending one when this polls
    await until(
      () =>
        existsSync(join(dropped, 'metrics.jsonl')) &&
        readFileSync(join(dropped, 'metrics.jsonl'), 'utf8').split('\n').length === expected(1, 3).length + 1,
    );
    sub.unsubscribe();
    await until(() => existsSync(join(dropped, 'metrics.parquet')));
    expect(await parquetRows(dropped)).toEqual(expected(1, 3));
    expect(readFileSync(join(dropped, 'metrics.jsonl'), 'utf8').endsWith('\n')).toBe(true);
  });

  it('resuming at a step keeps the log up to it (dropping a line cut short by a kill) and appends the rest', async () => {
    const dir = fresh();
    await run(from(batches(1, 20)), { dir });
    // the killed run had begun a line it never finished
    writeFileSync(
      join(dir, 'metrics.jsonl'),
      `${readFileSync(join(dir, 'metrics.jsonl'), 'utf8')}{"step":21,"split":"tr`,
    );
    await run(from(batches(11, 25)), { dir, resumeStep: 10 });
    expect(jsonlRows(dir)).toEqual(expected(1, 25));
    expect(await parquetRows(dir)).toEqual(expected(1, 25));
    // without resumeStep a run starts a new log
    await run(from(batches(1, 2)), { dir });
    expect(await parquetRows(dir)).toEqual(expected(1, 2));
  });

  it('names the file and line of a corrupt log line, and refuses batches that are not Metrics', async () => {
    const dir = fresh();
    await run(from(batches(1, 3)), { dir });
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n');
    lines[1] = '{"step":"two"}';
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n'));
    await expect(run(from(batches(4, 4)), { dir, resumeStep: 3 })).rejects.toThrow(
      /metrics\.jsonl line 2: expected \{step: integer/,
    );

    const docs = batchFromColumns(docSchema(), {
      id: ['a'],
      text: ['Call me Ishmael.'],
      url: [null],
      source: ['moby'],
    });
    await expect(run(from([docs as unknown as ReturnType<typeof metricsBatch>]), { dir: fresh() })).rejects.toThrow(
      /\[train\/metrics-sink\].*batch 0 is not a Metrics batch: column "step" is missing/,
    );
  });
});
