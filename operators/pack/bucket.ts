// Length bucketing: one document per row instead of concatenation, rows of similar length batched
// together so little padding is needed. Documents (EOS appended when configured) longer than seqLen+1
// are cut like pack-sequences cuts its stream: chunk k holds positions [k*seqLen, k*seqLen+seqLen], so
// chunks of one document overlap by one token and each token after the first is a label once. A
// window of `windowRows` chunks (the declared memory bound) is sorted by length (ties: arrival order),
// cut into batches of rowsPerBatch, and every batch is padded with padId to its width; attention_mask
// marks the real tokens (a prefix of each row).
// Width: 'seqLen' pads every row to seqLen+1 (FixedSizeList columns, the Packed schema: shards and
// training take it as is; the padding saved is what the trainer trims off using the mask), 'batch'
// pads only to the batch's longest row (List columns whose rows all have the batch's width, so a
// batch is still one [rows, width] grid: less memory and compute, but the width varies by batch).
import { defer } from 'rxjs';
import { z } from 'zod';
import type { RecordBatch, Schema } from 'apache-arrow';
import { defineOperator } from '../../src/core/operator.ts';
import { operate, type Emit } from '../../src/core/operate.ts';
import type { OperatorContext } from '../../src/core/context.ts';
import { Rng } from '../../src/runtime/rng.ts';
import type { Packed } from '../../src/schema/columns.ts';
import { checkEos, eachDocument, eosConfig, tokensInput, type TokensIn } from './documents.ts';
import { packedBatch, packedOutputSchema } from './packed-batch.ts';

const Config = z
  .object({
    seqLen: z
      .number()
      .int()
      .min(1)
      .max(1 << 20)
      .describe('rows hold at most seqLen+1 tokens; longer documents are cut'),
    rowsPerBatch: z
      .number()
      .int()
      .min(1)
      .max(1 << 16)
      .default(16)
      .describe('rows per output batch (the last batch of a window may hold fewer)'),
    windowRows: z
      .number()
      .int()
      .min(1)
      .max(1 << 20)
      .default(1024)
      .describe('rows sorted together; memory bound: windowRows*(seqLen+1) ids'),
    ...eosConfig,
    padId: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('token id written into padding positions (attention_mask is 0 there)'),
    width: z
      .enum(['seqLen', 'batch'])
      .default('seqLen')
      .describe("'seqLen': FixedSizeList[seqLen+1] columns; 'batch': List columns padded to each batch's longest row"),
    seed: z
      .number()
      .int()
      .optional()
      .describe('shuffle the order of batches within each window with this seed (default: shortest first)'),
  })
  .superRefine((c, ctx) => {
    checkEos(c, ctx);
    if (c.windowRows < c.rowsPerBatch)
      ctx.addIssue({
        code: 'custom',
        path: ['windowRows'],
        message: `windowRows (${c.windowRows}) must be at least rowsPerBatch (${c.rowsPerBatch})`,
      });
  });
type Cfg = z.output<typeof Config>;

const outputSchema = (cfg: Cfg) => packedOutputSchema(cfg.seqLen, { mask: true, ragged: cfg.width === 'batch' });

/** Cuts one document into chunks of at most seqLen+1 tokens overlapping by one (copies). */
function chunks(doc: Int32Array, seqLen: number, out: Int32Array[]): void {
  if (doc.length === 0) return;
  out.push(doc.slice(0, seqLen + 1));
  for (let start = seqLen; start + 1 < doc.length; start += seqLen) out.push(doc.slice(start, start + seqLen + 1));
}

class Bucketer {
  private window: Int32Array[] = [];
  private readonly rng: Rng | undefined;

  constructor(
    private readonly cfg: Cfg,
    private readonly schema: Schema<Packed>,
    private readonly ctx: OperatorContext,
  ) {
    this.rng = cfg.seed === undefined ? undefined : new Rng(cfg.seed);
  }

  add(doc: Int32Array, emit: Emit<Packed>): void {
    const before = this.window.length;
    chunks(doc, this.cfg.seqLen, this.window);
    if (this.window.length - before > 1) this.ctx.stats.count('documents cut', 1);
    while (this.window.length >= this.cfg.windowRows) {
      const full = this.window.splice(0, this.cfg.windowRows);
      this.flushWindow(full, emit);
    }
  }

  finish(emit: Emit<Packed>): void {
    if (this.window.length > 0) this.flushWindow(this.window, emit);
    this.window = [];
  }

  private flushWindow(rows: Int32Array[], emit: Emit<Packed>): void {
    // a stable sort: equal lengths keep arrival order, so the output depends only on the input
    const order = rows.map((_, i) => i).sort((a, b) => rows[a]!.length - rows[b]!.length || a - b);
    const batches: number[][] = [];
    for (let i = 0; i < order.length; i += this.cfg.rowsPerBatch)
      batches.push(order.slice(i, i + this.cfg.rowsPerBatch));
    this.rng?.shuffle(batches);
    for (const b of batches) emit(this.batchOf(b.map((i) => rows[i]!)));
  }

  private batchOf(rows: Int32Array[]): RecordBatch<Packed> {
    const W = this.cfg.width === 'seqLen' ? this.cfg.seqLen + 1 : Math.max(...rows.map((r) => r.length));
    const ids = new Int32Array(rows.length * W);
    if (this.cfg.padId !== 0) ids.fill(this.cfg.padId);
    const mask = new Uint8Array(rows.length * W);
    let pad = 0;
    rows.forEach((r, i) => {
      ids.set(r, i * W);
      mask.fill(1, i * W, i * W + r.length);
      pad += W - r.length;
    });
    this.ctx.stats.count('pad tokens', pad);
    return packedBatch(this.schema, { rows: rows.length, width: W, ids, mask });
  }
}

export const bucketByLength = defineOperator({
  id: 'pack/bucket',
  description:
    'one document (or seqLen+1 chunk) per row; rows of similar length batched together within a bounded window and ' +
    'padded, with attention_mask',
  config: Config,
  input: tokensInput,
  passthrough: false,
  output: outputSchema,
  module: import.meta.url,
  make: (cfg, ctx) => (source) =>
    defer(() => {
      const bucketer = new Bucketer(cfg, outputSchema(cfg), ctx);
      const withEos = (ids: Int32Array) => {
        if (!cfg.appendEos) return ids;
        const doc = new Int32Array(ids.length + 1);
        doc.set(ids);
        doc[ids.length] = cfg.eosId!;
        return doc;
      };
      // 'absorb': chunks are copied into the window (declared bound: windowRows rows), so inputs'
      // credits return at once; a batch emitted carries the input that completed its window
      return source.pipe(
        operate<TokensIn, Packed>(
          (batch, emit) => {
            eachDocument(batch, ctx, (ids) => bucketer.add(withEos(ids), emit));
          },
          { ctx, state: 'absorb', flush: (emit) => bucketer.finish(emit) },
        ),
      );
    }),
});
