// The row kernel: one form for operators that decide row by row. The author writes, per batch, a
// function that says for each row: keep it (`true`, or the values of its new columns), or drop it (a
// reason). The form owns the rest: nulls in the column it reads, the kept rows' batch (the input itself
// when nothing changes; untouched columns keep their buffers), typed new columns, drops counted by
// reason, the rejects file, and (through kernelMap or the worker pool) the credit tickets. It is a pure
// batch function, so the same kernel runs inline and on worker threads (defineRowOperator makes both).
//
// The batch-level fast path: a plan's `finish` gives whole columns for the kept rows (tokenize's
// token lists, built in one buffer while its rows were encoded); with no `row` function the rows are
// not walked at all (only nulls to drop are).
import { RecordBatch, Schema, type DataType, type Vector } from 'apache-arrow';
import { FlowError } from './errors.ts';
import { kernelStatsMetadata, type RejectedRows } from './kernel-stats.ts';
import { keptBatch } from './row-batch.ts';
import { columnOf, type ColumnTypes, type RowValues } from './row-columns.ts';
import { RowTally } from './row-tally.ts';

export type { ColumnTypes, RowValues } from './row-columns.ts';

/** What a row function says: keep (`true`, or the values of the kernel's columns), or drop (the reason). */
export type Verdict<C extends ColumnTypes> = true | string | RowValues<C>;
export type RowFn<T, C extends ColumnTypes> = (value: T, row: number) => Verdict<C>;

export interface RowPlan<T, C extends ColumnTypes> {
  row?: RowFn<T, C>;
  /** whole columns for the kept rows (`kept` values each), made after the last row; they take the
   * place of values the rows gave */
  finish?: (kept: number) => { [K in keyof C]?: Vector };
}

/** Counters other than drops (e.g. replacements made), reported to the operator's stats. */
export interface Tally {
  count(name: string, n?: number): void;
}

type Prepare<T, C extends ColumnTypes> = (batch: RecordBatch, tally: Tally) => RowFn<T, C> | RowPlan<T, C>;

interface SpecBase<C extends ColumnTypes> {
  /** the column the form reads: null-checked, passed to `row`, written as a reject's record ('text');
   * null: none (with read 'none' and nulls 'row': the row function reads the batch itself) */
  column?: string | null;
  /** what to do when the column is missing ('put an operator that produces it upstream') */
  missing?: string;
  /** the columns the kernel adds, or replaces where the input has one of that name (in this order) */
  columns?: C;
  /** input columns left out of the output */
  removes?: readonly string[];
  /** JSON Lines file receiving each dropped row (the operator's `rejects` config) */
  rejects?: string;
}

/**
 * `nulls`: a null in `column` is dropped with the reason given ({ drop: 'quality.null' }), kept as is
 * ('keep': the row function does not see it; new columns are null there), or given to the row
 * function as null ('row'). `read: 'none'`: the row function gets no value (it reads the batch's
 * columns itself, say raw UTF-8 bytes); null handling still applies.
 */
export type RowSpec<C extends ColumnTypes = ColumnTypes> =
  | (SpecBase<C> & { read?: 'value'; nulls: 'keep' | { drop: string }; batch: Prepare<string, C> })
  | (SpecBase<C> & { read?: 'value'; nulls: NullPolicy; batch: Prepare<string | null, C> })
  | (SpecBase<C> & { read: 'none'; nulls: NullPolicy; batch: Prepare<undefined, C> });

export type NullPolicy = 'keep' | 'row' | { drop: string };

/** What a spec fixes for every batch, worked out once. */
interface Fixed<C extends ColumnTypes> {
  name: string | null;
  names: Array<keyof C & string>;
  types: DataType[];
  isRead: boolean[];
  removes: readonly string[];
}
const fixedOf = new WeakMap<object, Fixed<ColumnTypes>>();

function fixed<C extends ColumnTypes>(spec: RowSpec<C>): Fixed<C> {
  let f = fixedOf.get(spec) as Fixed<C> | undefined;
  if (f) return f;
  const name = spec.column === undefined ? 'text' : spec.column;
  if (name === null && (spec.read !== 'none' || spec.nulls !== 'row'))
    throw new Error("row kernel: without a column to read, give read: 'none' and nulls: 'row'");
  const declared = Object.entries(spec.columns ?? {}) as Array<[keyof C & string, DataType]>;
  f = {
    name,
    names: declared.map(([c]) => c),
    types: declared.map(([, t]) => t),
    isRead: declared.map(([c]) => c === name),
    removes: spec.removes ?? [],
  };
  fixedOf.set(spec, f as unknown as Fixed<ColumnTypes>);
  return f;
}

/** Applies `spec` to one batch: the kept rows, with the kernel's stats (and rejects) attached. */
export function runRows<C extends ColumnTypes>(spec: RowSpec<C>, batch: RecordBatch): RecordBatch {
  const { name, names, types, isRead, removes } = fixed(spec);
  const col = name === null ? null : batch.getChild(name);
  if (name !== null && !col)
    throw new Error(
      `column "${name}" missing (batch has ${batch.schema.names.join(', ')}); ${spec.missing ?? 'put an operator that produces it upstream'}`,
    );
  const rejects: RejectedRows | undefined =
    spec.rejects === undefined ? undefined : { path: spec.rejects, column: name ?? '', rows: [], reasons: [] };
  const t = new RowTally<C>(batch, names, isRead, rejects);
  const prepared = (spec.batch as Prepare<string | null | undefined, C>)(batch, t);
  const plan = typeof prepared === 'function' ? { row: prepared } : prepared;
  const row = plan.row;
  const n = batch.numRows;
  const policy = spec.nulls;
  const nulls = col !== null && col.nullCount > 0;
  const read = spec.read !== 'none';

  if (row || (nulls && typeof policy === 'object')) {
    for (let r = 0; r < n; r++) {
      let value: string | null | undefined;
      if (nulls && !col!.isValid(r)) {
        if (typeof policy === 'object') {
          t.drop(r, policy.drop);
          continue;
        }
        if (policy === 'keep' || !row) {
          t.keepRow(r, undefined, null);
          continue;
        }
        value = null;
      } else if (read) value = col!.get(r) as string;
      if (!row) {
        t.keepRow(r, undefined, value);
        continue;
      }
      let v: Verdict<C>;
      try {
        v = row(value as string, r);
      } catch (err) {
        throw err instanceof FlowError
          ? err
          : new FlowError('row kernel', err instanceof Error ? err.message : String(err), { row: r }, { cause: err });
      }
      if (typeof v === 'string') t.drop(r, v);
      else t.keepRow(r, v === true ? undefined : v, value);
    }
  } else t.kept = n;

  const whole = (plan.finish?.(t.kept) ?? {}) as Partial<Record<string, Vector>>;
  const columns = new Map<string, Vector>();
  for (let i = 0; i < names.length; i++) {
    const c = names[i]!;
    const given = whole[c];
    if (given) columns.set(c, given);
    else if (row && t.changed[i]) columns.set(c, columnOf(batch, c, types[i]!, t.filled(i)));
    else if (!t.inputs[i])
      throw new Error(`row kernel: column "${c}" is declared, but neither the rows nor finish() gave its values`);
  }
  const stats = kernelStatsMetadata(batch.schema.metadata, {
    drops: t.drops,
    counters: t.counters,
    ...(rejects ? { rejects } : {}),
  });
  if (!t.keep && columns.size === 0 && removes.length === 0)
    return stats ? new RecordBatch(new Schema(batch.schema.fields, stats), batch.data) : batch;
  return keptBatch(batch, t.keep, columns, removes, stats);
}
