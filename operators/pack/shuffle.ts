// A seeded shuffle buffer (tf.data's shuffle): the first bufferRows rows fill the buffer; then each
// incoming row takes the place of a buffered row picked at random, which goes out. At the end the
// rest of the buffer goes out in random order. The output order depends only on the seed and the
// sequence of input rows (not on how they were cut into batches). Works on any columns.
// Memory bound: rows are kept as references into the input batches they came in; when those batches
// hold more than 2*(bufferRows+rowsPerBatch) rows, the live rows are copied into one batch and the
// rest let go. So at most 2*(bufferRows+rowsPerBatch) rows plus one input batch are held, and each
// row is copied about once on average.
import { Schema, type RecordBatch, type TypeMap } from 'apache-arrow';
import { defer } from 'rxjs';
import { z } from 'zod';
import { defineOperator } from '../../src/core/operator.ts';
import { operate, type Emit } from '../../src/core/operate.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { gatherRows } from '../../src/schema/gather.ts';

const Config = z.object({
  bufferRows: z
    .number()
    .int()
    .min(1)
    .max(1 << 24)
    .default(1024)
    .describe('rows in the shuffle buffer (larger: better mixing, more memory)'),
  seed: z.number().int().default(0).describe('same seed and same input rows give the same order'),
  rowsPerBatch: z
    .number()
    .int()
    .min(1)
    .max(1 << 16)
    .default(64)
    .describe('rows per output batch (the last may have fewer)'),
});
type Cfg = z.output<typeof Config>;
type Rows = TypeMap;

class ShuffleBuffer {
  private sources: RecordBatch[] = [];
  private held = 0;
  private schema: Schema | undefined;
  private readonly slotFrom: Int32Array;
  private readonly slotRow: Int32Array;
  private filled = 0;
  private outFrom: number[] = [];
  private outRow: number[] = [];
  private readonly rng: Rng;

  constructor(private readonly cfg: Cfg) {
    this.slotFrom = new Int32Array(cfg.bufferRows);
    this.slotRow = new Int32Array(cfg.bufferRows);
    this.rng = new Rng(cfg.seed);
  }

  add(batch: RecordBatch, emit: Emit<Rows>): void {
    if (batch.numRows === 0) return;
    this.checkSchema(batch);
    const b = this.sources.push(batch) - 1;
    this.held += batch.numRows;
    const N = this.cfg.bufferRows;
    for (let r = 0; r < batch.numRows; r++) {
      if (this.filled < N) {
        this.slotFrom[this.filled] = b;
        this.slotRow[this.filled++] = r;
        continue;
      }
      const j = this.rng.below(N);
      this.out(this.slotFrom[j]!, this.slotRow[j]!, emit);
      this.slotFrom[j] = b;
      this.slotRow[j] = r;
    }
    if (this.held > 2 * (N + this.cfg.rowsPerBatch)) this.compact();
  }

  finish(emit: Emit<Rows>): void {
    const order = this.rng.shuffle(Array.from({ length: this.filled }, (_, k) => k));
    for (const k of order) this.out(this.slotFrom[k]!, this.slotRow[k]!, emit);
    if (this.outFrom.length > 0) this.emitOut(emit);
    this.sources = [];
    this.filled = 0;
    this.held = 0;
  }

  private out(from: number, row: number, emit: Emit<Rows>): void {
    this.outFrom.push(from);
    this.outRow.push(row);
    if (this.outFrom.length === this.cfg.rowsPerBatch) this.emitOut(emit);
  }

  private emitOut(emit: Emit<Rows>): void {
    emit(gatherRows(this.schema!, this.sources, { from: this.outFrom, rows: this.outRow }));
    this.outFrom = [];
    this.outRow = [];
  }

  /** Copy the buffered and pending rows into one batch; every other input batch is let go. */
  private compact(): void {
    const from = [...this.slotFrom.subarray(0, this.filled), ...this.outFrom];
    const rows = [...this.slotRow.subarray(0, this.filled), ...this.outRow];
    const kept = gatherRows(this.schema!, this.sources, { from, rows });
    this.sources = [kept];
    this.held = kept.numRows;
    for (let k = 0; k < this.filled; k++) {
      this.slotFrom[k] = 0;
      this.slotRow[k] = k;
    }
    this.outFrom = this.outFrom.map(() => 0);
    this.outRow = this.outRow.map((_, k) => this.filled + k);
  }

  private checkSchema(batch: RecordBatch): void {
    if (!this.schema) {
      this.schema = batch.schema;
      return;
    }
    const want = this.schema.fields.map((f) => `${f.name}: ${f.type}`).join(', ');
    const got = batch.schema.fields.map((f) => `${f.name}: ${f.type}`).join(', ');
    if (want !== got)
      throw new Error(
        `input batches change columns: first { ${want} }, now { ${got} }; shuffle one stream of one schema`,
      );
  }
}

export const shuffleRows = defineOperator({
  id: 'pack/shuffle',
  description:
    'deterministic seeded shuffle buffer over rows of any columns (bounded: about 2*(bufferRows+rowsPerBatch) rows)',
  config: Config,
  input: () => new Schema<Rows>([]),
  passthrough: true,
  output: () => new Schema<Rows>([]),
  module: import.meta.url,
  make: (cfg, ctx) => (source) =>
    defer(() => {
      const buffer = new ShuffleBuffer(cfg);
      // 'absorb': rows live in the buffer, whose bound is declared above; an input's credit returns
      // once its rows are in it
      return source.pipe(
        operate<Rows, Rows>((batch, emit) => buffer.add(batch, emit), {
          ctx,
          state: 'absorb',
          flush: (emit) => buffer.finish(emit),
        }),
      );
    }),
});
