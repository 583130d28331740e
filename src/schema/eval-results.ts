// Eval result rows (task, metric, value, stderr, n, config_hash) to and from record batches.
import type { RecordBatch, Schema } from 'apache-arrow';
import type { EvalResultRow } from '../eval/task.ts';
import { batchFromColumns } from './build.ts';
import { evalResultsSchema, type EvalResults } from './columns.ts';

export function evalResultsBatch(
  rows: readonly EvalResultRow[],
  schema: Schema<EvalResults> = evalResultsSchema(),
): RecordBatch<EvalResults> {
  return batchFromColumns(schema, {
    task: rows.map((r) => r.task),
    metric: rows.map((r) => r.metric),
    value: Float64Array.from(rows, (r) => r.value),
    stderr: Float64Array.from(rows, (r) => r.stderr),
    n: BigInt64Array.from(rows, (r) => BigInt(r.n)),
    config_hash: rows.map((r) => r.config_hash),
  });
}

export function evalResultRows(batch: RecordBatch): EvalResultRow[] {
  const col = (name: string) => {
    const c = batch.getChild(name);
    if (!c) throw new Error(`eval results: batch lacks column ${name} (has ${batch.schema.names.join(', ')})`);
    return c;
  };
  const [task, metric, value, stderr, n, hash] = ['task', 'metric', 'value', 'stderr', 'n', 'config_hash'].map(col);
  const out: EvalResultRow[] = [];
  for (let r = 0; r < batch.numRows; r++)
    out.push({
      task: String(task!.get(r)),
      metric: String(metric!.get(r)),
      value: Number(value!.get(r)),
      stderr: Number(stderr!.get(r)),
      n: Number(n!.get(r)),
      config_hash: String(hash!.get(r)),
    });
  return out;
}
