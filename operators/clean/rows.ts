// What the cleaning kernels share: walk the text column, keep some rows (with new values for some
// columns), and return one batch with the kernel's drop reasons and counters attached.
import type { RecordBatch, TypeMap, Vector } from 'apache-arrow';
import { DataType, Dictionary, Int32, vectorFromArray, Utf8, type Field } from 'apache-arrow';
import { withKernelStats, tally, type KernelStats } from '../../src/core/kernel-stats.ts';
import { takeRows, withColumns } from '../../src/schema/build.ts';

/** Per-batch bookkeeping of a row-wise kernel. */
export class RowTally {
  readonly keep: number[] = [];
  readonly drops: Record<string, number> = {};
  readonly counters: Record<string, number> = {};
  drop(reason: string): void { tally(this.drops, reason); }
  count(name: string, n = 1): void { tally(this.counters, name, n); }
  get stats(): KernelStats { return { drops: this.drops, counters: this.counters }; }
}

/** The text column's values (null for a missing column value). */
export function textColumn(batch: RecordBatch, column = 'text'): (row: number) => string | null {
  const col = batch.getChild(column);
  if (!col) throw new Error(`column "${column}" missing (batch has ${batch.schema.names.join(', ')}); put an operator that produces it upstream`);
  return (row) => col.get(row) as string | null;
}

/**
 * The batch with only the rows in `t.keep`, and `columns` (one value per kept row, in order) added or
 * replacing existing ones. Kept rows' other columns are copied only when some row was dropped.
 */
export function emit<T extends TypeMap>(input: RecordBatch<T>, t: RowTally, columns: Record<string, Vector> = {}): RecordBatch<T> {
  const batch = input as unknown as RecordBatch;
  const all = t.keep.length === batch.numRows;
  let base = batch;
  if (!all) {
    // replaced columns need not be copied: stand-ins of the same type keep the order of fields
    const stand: Record<string, Vector> = {};
    for (const [name, v] of Object.entries(columns))
      if (batch.schema.names.includes(name)) stand[name] = standIn(v, batch.numRows);
    base = takeRows(Object.keys(stand).length ? withColumns(batch, stand) as RecordBatch : batch, t.keep);
  }
  const out: RecordBatch = Object.keys(columns).length ? withColumns(base, columns) as RecordBatch : base;
  return withKernelStats(out, t.stats) as unknown as RecordBatch<T>;
}

// empty strings rather than nulls, so a non-nullable text column stays non-nullable
const standIn = (like: Vector, n: number): Vector =>
  vectorFromArray(new Array<string | null>(n).fill(DataType.isUtf8(like.type) ? '' : null), like.type) as Vector;

export const utf8Vector = (values: ReadonlyArray<string | null>): Vector => vectorFromArray(values as (string | null)[], new Utf8()) as Vector;

/**
 * A Utf8 dictionary vector for a column a kernel adds. Its dictionary id comes from the column name,
 * not from dictUtf8()'s counter: that counter is per thread, so on a worker it restarts at 0 and
 * would reuse the id of a dictionary column made on the main thread (the source column), which Arrow
 * IPC refuses. A name-derived id is also the same in every batch of the stream.
 */
export function dictVector(batch: RecordBatch, column: string, values: ReadonlyArray<string | null>): Vector {
  let id = 1_000_000_000;
  for (let i = 0; i < column.length; i++) id = (Math.imul(id ^ column.charCodeAt(i), 16777619) >>> 0) % 1_000_000_000;
  id += 1_000_000_000;
  const taken = new Set<number>();
  const collect = (fields: readonly Field[]) => {
    for (const f of fields) {
      if (f.name === column) continue;
      if (DataType.isDictionary(f.type)) taken.add(f.type.id);
      collect(f.type.children ?? []);
    }
  };
  collect(batch.schema.fields);
  while (taken.has(id)) id++;
  return vectorFromArray(values as (string | null)[], new Dictionary(new Utf8(), new Int32(), id)) as Vector;
}
