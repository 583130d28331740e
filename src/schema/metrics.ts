// Metrics rows (DESIGN.md §3: step Int64, split, name, value Float64, time Timestamp[ms]) to and from
// record batches. Trainers report `{ step, split, values: { loss, lr, ... } }`; each value becomes a row.
import type { RecordBatch, Schema } from 'apache-arrow';
import { batchFromColumns } from './build.ts';
import { metricsSchema, type Metrics } from './columns.ts';

export interface MetricRow {
  step: number;
  split: string;
  name: string;
  value: number;
  time: number;
}

/** One report of a step: every entry of `values` is one metric. `time` defaults to now. */
export interface MetricsReport {
  step: number;
  split: string;
  values: Record<string, number>;
  time?: number | Date;
}

/** A batch from rows; pass one schema object for every batch of a file (writers need it). */
export function metricsFromRows(
  rows: readonly MetricRow[],
  schema: Schema<Metrics> = metricsSchema(),
): RecordBatch<Metrics> {
  for (const r of rows)
    if (!Number.isSafeInteger(r.step) || r.step < 0)
      throw new RangeError(`metrics: step must be a non-negative integer, got ${r.step} (metric "${r.name}")`);
  return batchFromColumns(schema, {
    step: BigInt64Array.from(rows, (r) => BigInt(r.step)),
    split: rows.map((r) => r.split),
    name: rows.map((r) => r.name),
    value: Float64Array.from(rows, (r) => r.value),
    time: rows.map((r) => r.time),
  });
}

/** A Metrics batch from step reports, one row per (report, metric) in the order given. */
export function metricsBatch(
  reports: MetricsReport | readonly MetricsReport[],
  schema?: Schema<Metrics>,
): RecordBatch<Metrics> {
  const list: readonly MetricsReport[] = Array.isArray(reports) ? reports : [reports as MetricsReport];
  const now = Date.now();
  const rows = list.flatMap((r) => {
    const time = r.time === undefined ? now : typeof r.time === 'number' ? r.time : r.time.getTime();
    return Object.entries(r.values).map(([name, value]) => ({ step: r.step, split: r.split, name, value, time }));
  });
  return metricsFromRows(rows, schema);
}

const toNumber = (v: unknown): number =>
  typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.getTime() : Number(v);

/** The rows of a Metrics batch as plain objects. */
export function metricRows(batch: RecordBatch<Metrics>): MetricRow[] {
  const step = batch.getChild('step'),
    split = batch.getChild('split'),
    name = batch.getChild('name');
  const value = batch.getChild('value'),
    time = batch.getChild('time');
  if (!step || !split || !name || !value || !time)
    throw new Error(`metrics: batch lacks Metrics columns (has ${batch.schema.names.join(', ')})`);
  const out: MetricRow[] = [];
  for (let r = 0; r < batch.numRows; r++)
    out.push({
      step: toNumber(step.get(r)),
      split: String(split.get(r)),
      name: String(name.get(r)),
      value: Number(value.get(r)),
      time: toNumber(time.get(r)),
    });
  return out;
}
