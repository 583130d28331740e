// The PPO chain's Arrow columns: one row per rollout, token lists as List<Int32>, per-token model
// outputs as List<Float32> (they come from float32 tensors), shaped rewards and advantages as
// List<Float64> (computed in float64; kept exact between stages).
import { Field, Float32, Float64, Int32, List, type RecordBatch } from 'apache-arrow';

export const intList = () => new List(new Field('item', new Int32(), false));
export const f32List = () => new List(new Field('item', new Float32(), false));
export const f64List = () => new List(new Field('item', new Float64(), false));

function column(batch: RecordBatch, name: string, where: string) {
  const col = batch.getChild(name);
  if (!col)
    throw new Error(
      `${where}: the input has no ${name} column (columns: ${batch.schema.names.join(', ')}); place this stage after the one that adds it`,
    );
  return col;
}

/** Each row's list as a typed array (a null row is an error). */
export function listRows(batch: RecordBatch, name: string, where: string): ArrayLike<number>[] {
  const col = column(batch, name, where);
  return Array.from({ length: batch.numRows }, (_, i) => {
    const v = col.get(i) as { toArray(): ArrayLike<number> } | null;
    if (v === null) throw new Error(`${where}: row ${i} of ${name} is null`);
    return v.toArray();
  });
}

export const idRows = (batch: RecordBatch, name: string, where: string): number[][] =>
  listRows(batch, name, where).map((a) => Array.from(a));

/** A scalar Float32 column as numbers. */
export function floatColumn(batch: RecordBatch, name: string, where: string): Float64Array {
  const col = column(batch, name, where);
  return Float64Array.from({ length: batch.numRows }, (_, i) => Number(col.get(i)));
}
