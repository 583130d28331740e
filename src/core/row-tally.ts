// One batch's bookkeeping in a row kernel: which rows are kept, the values they give the kernel's
// columns (by kept position), drops by reason, counters, and the rows rejected. A class rather than
// closures made per batch: a batch's fixed cost is what a kernel over few rows (count-tokens) pays.
import type { RecordBatch, Vector } from 'apache-arrow';
import { tally, type RejectedRows } from './kernel-stats.ts';
import type { ColumnTypes, RowValues } from './row-columns.ts';

export class RowTally<C extends ColumnTypes> {
  /** rows kept, once one was dropped (until then, all rows so far) */
  keep: number[] | undefined;
  kept = 0;
  readonly drops: Record<string, number> = {};
  readonly counters: Record<string, number> = {};
  /** per declared column: values by kept position; a hole is null in a new column and the input's
   * value in a replaced one (filled in only if the column is rebuilt, except the read column's, which
   * is at hand) */
  readonly values: unknown[][];
  /** a new column must be built; a replaced one only if some kept row gave it another value */
  readonly changed: boolean[];
  readonly inputs: Array<Vector | null>;

  constructor(
    batch: RecordBatch,
    private readonly names: ReadonlyArray<keyof C & string>,
    /** per declared column: it is the column the rows' values were read from */
    private readonly isRead: readonly boolean[],
    readonly rejects: RejectedRows | undefined,
  ) {
    this.values = names.map(() => []);
    this.inputs = names.map((c) => batch.getChild(c));
    this.changed = this.inputs.map((v) => !v);
  }

  count(name: string, n = 1): void {
    tally(this.counters, name, n);
  }

  drop(r: number, reason: string): void {
    this.keep ??= Array.from({ length: r }, (_, k) => k);
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
    if (this.rejects) {
      this.rejects.rows.push(r);
      this.rejects.reasons.push(reason);
    }
  }

  /** `value`: what the row function was given (the read column's value) */
  keepRow(r: number, given: RowValues<C> | undefined, value: unknown): void {
    this.keep?.push(r);
    const k = this.kept++;
    for (let c = 0; c < this.names.length; c++) {
      const x = given?.[this.names[c]!];
      if (x !== undefined) {
        this.values[c]![k] = x;
        // (a string compares by content: an unchanged text leaves the input's column in place)
        if (!this.changed[c] && (!this.isRead[c] || x !== value)) this.changed[c] = true;
      } else if (this.isRead[c]) this.values[c]![k] = value;
    }
  }

  /** Column `c`'s values for the kept rows, holes filled with the input's values (or nulls). */
  filled(c: number): unknown[] {
    const v = this.values[c]!,
      input = this.inputs[c];
    v.length = this.kept;
    for (let k = 0; k < this.kept; k++)
      if (v[k] === undefined) v[k] = input ? input.get(this.keep ? this.keep[k]! : k) : null;
    return v;
  }
}
