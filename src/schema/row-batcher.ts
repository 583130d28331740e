// Rows collected column by column until a batch is full (by rows or by bytes), then built into one
// RecordBatch: what every reader does between parsing records and yielding batches.
import type { RecordBatch, Schema, TypeMap } from 'apache-arrow';
import { batchFromColumns, type ColumnInput } from './build.ts';

export interface RowBatcherLimits {
  batchRows: number;
  batchBytes?: number;
}

export class RowBatcher<T extends TypeMap> {
  private cols: Record<string, unknown[]>;
  private bytes = 0;
  constructor(
    readonly schema: Schema<T>,
    private readonly limits: RowBatcherLimits,
  ) {
    this.cols = Object.fromEntries(schema.fields.map((f) => [f.name, []]));
  }

  get size(): number {
    return this.cols[this.schema.fields[0]!.name]!.length;
  }
  get full(): boolean {
    return (
      this.size >= this.limits.batchRows ||
      (this.limits.batchBytes !== undefined && this.bytes >= this.limits.batchBytes)
    );
  }

  /** Add one row; `bytes` is its weight against batchBytes (e.g. the text's length). */
  push(row: { [K in keyof T]: unknown }, bytes = 0): void {
    for (const f of this.schema.fields) this.cols[f.name]!.push((row as Record<string, unknown>)[f.name] ?? null);
    this.bytes += bytes;
  }

  /** The rows so far as one batch, and an empty batcher. */
  flush(): RecordBatch<T> {
    const b = batchFromColumns(this.schema, this.cols as { [K in keyof T]: ColumnInput<T[K]> });
    for (const v of Object.values(this.cols)) v.length = 0;
    this.bytes = 0;
    return b;
  }
}
