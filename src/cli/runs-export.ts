// `flowlm runs export ID... --out FILE.csv|FILE.parquet [--key K]...`: the metric points of runs as one
// table (run_id, run_name, key, step, value, time), for pandas, polars, DuckDB or a spreadsheet. Written
// under a temporary name and renamed into place (src/runtime/files.ts AtomicFile), as the metrics sink
// writes metrics.parquet: a failed export leaves the old file or none.
import { Float64, Int64, TimestampMillisecond, type Schema } from 'apache-arrow';
import { extname, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MetricPoint, RunRow, RunStore } from '../runs/store.ts';
import { AtomicFile } from '../runtime/files.ts';
import { ParquetWriter } from '../runtime/parquet-writer.ts';
import { batchFromColumns } from '../schema/build.ts';
import { dictUtf8, schemaOf } from '../schema/columns.ts';
import { UsageError } from './io.ts';
import { RunsError } from './runs-store.ts';

type ExportColumns = {
  run_id: ReturnType<typeof dictUtf8>;
  run_name: ReturnType<typeof dictUtf8>;
  key: ReturnType<typeof dictUtf8>;
  step: Int64;
  value: Float64;
  time: TimestampMillisecond;
};
export const exportSchema = (): Schema<ExportColumns> =>
  schemaOf<ExportColumns>({
    run_id: { type: dictUtf8() },
    run_name: { type: dictUtf8() },
    key: { type: dictUtf8() },
    step: { type: new Int64() },
    value: { type: new Float64() },
    time: { type: new TimestampMillisecond() },
  });

export const EXPORT_HEADER = 'run_id,run_name,key,step,value,time';
const BATCH_ROWS = 8192;

/** A CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
const csvField = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
/** NaN, Infinity, -Infinity as pandas and polars read them */
const csvNumber = (v: number) => (Number.isNaN(v) ? 'NaN' : String(v));

export interface ExportResult {
  path: string;
  format: 'csv' | 'parquet';
  runs: number;
  rows: number;
}

/** The points of each run (in the order given), key by key in step order. */
function* points(store: RunStore, runs: readonly RunRow[], keys?: readonly string[]) {
  for (const run of runs) {
    const ks = keys ?? store.metricKeys(run.id);
    for (const key of ks) yield { run, points: store.metrics(run.id, key) };
  }
}

export async function exportRuns(
  store: RunStore,
  runs: readonly RunRow[],
  out: string,
  keys?: readonly string[],
): Promise<ExportResult> {
  const ext = extname(out).toLowerCase();
  if (ext !== '.csv' && ext !== '.parquet')
    throw new UsageError(`--out ${out}: name a .csv or a .parquet file (the format follows the extension)`, 'runs');
  if (keys?.length) {
    const known = new Set(runs.flatMap((r) => store.metricKeys(r.id)));
    const missing = keys.filter((k) => !known.has(k));
    if (missing.length)
      throw new RunsError(
        `--key ${missing.join(', ')}: no such metric in these runs (keys: ${[...known].sort().join(', ') || 'none'})`,
      );
  }
  const path = resolve(out);
  mkdirSync(dirname(path), { recursive: true });
  const file = new AtomicFile(path);
  const which = keys?.length ? keys : undefined;
  try {
    const rows =
      ext === '.csv' ? await writeCsv(file, store, runs, which) : await writeParquet(file, store, runs, which);
    await file.commit();
    return { path, format: ext === '.csv' ? 'csv' : 'parquet', runs: runs.length, rows };
  } catch (err) {
    await file.abort();
    throw err;
  }
}

async function writeCsv(
  file: AtomicFile,
  store: RunStore,
  runs: readonly RunRow[],
  keys?: readonly string[],
): Promise<number> {
  await file.write(`${EXPORT_HEADER}\n`);
  let rows = 0;
  for (const { run, points: pts } of points(store, runs, keys)) {
    const prefix = `${csvField(run.id)},${csvField(run.name)}`;
    for (let i = 0; i < pts.length; i += BATCH_ROWS) {
      const chunk = pts.slice(i, i + BATCH_ROWS);
      await file.write(
        chunk.map((p) => `${prefix},${csvField(p.key)},${p.step},${csvNumber(p.value)},${p.time}\n`).join(''),
      );
      rows += chunk.length;
    }
  }
  return rows;
}

async function writeParquet(
  file: AtomicFile,
  store: RunStore,
  runs: readonly RunRow[],
  keys?: readonly string[],
): Promise<number> {
  const schema = exportSchema();
  const writer = new ParquetWriter(file, { compression: 'snappy', rowGroupRows: 65_536 });
  let buf: { run: RunRow; p: MetricPoint }[] = [];
  let rows = 0;
  const flush = async () => {
    await writer.write(
      batchFromColumns(schema, {
        run_id: buf.map((b) => b.run.id),
        run_name: buf.map((b) => b.run.name),
        key: buf.map((b) => b.p.key),
        step: BigInt64Array.from(buf, (b) => BigInt(b.p.step)),
        value: Float64Array.from(buf, (b) => b.p.value),
        time: buf.map((b) => b.p.time),
      }),
    );
    rows += buf.length;
    buf = [];
  };
  try {
    for (const { run, points: pts } of points(store, runs, keys))
      for (const p of pts) {
        buf.push({ run, p });
        if (buf.length === BATCH_ROWS) await flush();
      }
    // zero rows still give a file with the schema
    if (buf.length > 0 || !writer.started) await flush();
    await writer.finish();
    return rows;
  } catch (err) {
    await writer.abort(err);
    throw err;
  }
}
