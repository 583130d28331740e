// Supervised fine-tuning examples into training rows of seqLen+1 tokens that keep examples apart:
// whole examples are laid end to end from the start of a row (a row never splits one, and rows do
// not overlap as pretraining rows do), doc_starts marks where each begins (attention and positions
// restart there under the model's docMasking) and attention_mask carries the loss mask: 1 only at
// response tokens, 0 at prompt tokens, at each example's first token (it would be predicted from the
// example before) and at the padding that ends a row. The loss (src/nn/objective/loss.ts) weighs the
// target at position i by attention_mask[i], so a row trains on exactly its examples' responses, each
// as if alone. An example longer than a row loses prompt tokens from its left, or is dropped.
import { defer, type Observable } from 'rxjs';
import type { Data, List, RecordBatch, Schema } from 'apache-arrow';
import { z } from 'zod';
import { defineOperator } from '../../src/core/operator.ts';
import { operate } from '../../src/core/operate.ts';
import type { OperatorContext } from '../../src/core/context.ts';
import type { Packed } from '../../src/schema/columns.ts';
import { IntList, packedBatch, packedOutputSchema } from '../pack/packed-batch.ts';
import { sftTokensSchema, type SftTokens } from './sft-data.ts';

const Config = z
  .object({
    seqLen: z
      .number()
      .int()
      .min(1)
      .max(1 << 20)
      .describe('input tokens per row; rows hold seqLen+1 (inputs and shifted labels), so an example fits in seqLen+1'),
    rowsPerBatch: z
      .number()
      .int()
      .min(1)
      .max(65_536)
      .default(64)
      .describe('rows per output batch (the last may have fewer)'),
    packing: z
      .boolean()
      .default(true)
      .describe('several examples per row, in arrival order, while they fit; false: one example per row'),
    overflow: z
      .enum(['truncate', 'drop'])
      .default('truncate')
      .describe(
        'an example longer than a row: "truncate" drops prompt tokens from its left until it fits (dropped when ' +
          'even its response does not), "drop" drops it',
      ),
    padId: z.number().int().min(0).default(0).describe("id written after a row's last example (never a target)"),
  })
  .superRefine((c, ctx) => {
    if (c.rowsPerBatch * (c.seqLen + 1) > 1 << 28)
      ctx.addIssue({
        code: 'custom',
        path: ['rowsPerBatch'],
        message:
          `rowsPerBatch*(seqLen+1) = ${c.rowsPerBatch * (c.seqLen + 1)} ids is over 2^28 (1 GiB per batch); ` +
          `use fewer rows per batch`,
      });
  });
type Cfg = z.output<typeof Config>;

/** Leading tokens of an example that are not targets (its prompt). */
function promptLength(mask: Uint8Array): number {
  let i = 0;
  while (i < mask.length && mask[i] === 0) i++;
  return i;
}

/** The packer's state: the output batch being filled. Bound: one batch of rowsPerBatch*(seqLen+1). */
class SftPacker {
  readonly ready: RecordBatch<Packed>[] = [];
  private readonly width: number;
  private ids!: Int32Array;
  private mask!: Uint8Array;
  private row = 0;
  private col = 0;
  private readonly starts = new IntList();
  private readonly rowStart: Int32Array;

  constructor(
    private readonly cfg: Cfg,
    private readonly schema: Schema<Packed>,
    private readonly ctx: OperatorContext,
  ) {
    this.width = cfg.seqLen + 1;
    this.rowStart = new Int32Array(cfg.rowsPerBatch + 1);
    this.fresh();
  }

  private fresh(): void {
    this.ids = new Int32Array(this.cfg.rowsPerBatch * this.width).fill(this.cfg.padId);
    this.mask = new Uint8Array(this.cfg.rowsPerBatch * this.width);
  }

  /** One example (its ids and loss mask); truncated or dropped when longer than a row. */
  add(ids: Int32Array, mask: Uint8Array): void {
    const W = this.width;
    let from = 0;
    if (ids.length > W) {
      // its first kept token is a doc start and never a target: all cut tokens and it must be prompt
      const cut = ids.length - W;
      if (this.cfg.overflow === 'drop') return this.ctx.stats.drop('example longer than a row', 1);
      if (promptLength(mask) < cut + 1) return this.ctx.stats.drop('response longer than a row', 1);
      from = cut;
      this.ctx.stats.count('examples truncated', 1);
      this.ctx.stats.count('prompt tokens truncated', cut);
    }
    const n = ids.length - from;
    if (this.col > 0 && (!this.cfg.packing || this.col + n > W)) this.endRow();
    const at = this.row * W + this.col;
    this.ids.set(ids.subarray(from), at);
    this.mask.set(mask.subarray(from), at);
    this.mask[at] = 0;
    this.starts.push(this.col);
    this.col += n;
    this.ctx.stats.count('examples', 1);
  }

  private endRow(): void {
    this.ctx.stats.count('pad tokens', this.width - this.col);
    this.row++;
    this.col = 0;
    this.rowStart[this.row] = this.starts.length;
    if (this.row === this.cfg.rowsPerBatch) this.emit();
  }

  private emit(): void {
    const rows = this.row;
    const W = this.width;
    const docStarts = { offsets: this.rowStart.slice(0, rows + 1), values: this.starts.take() };
    const ids = rows === this.cfg.rowsPerBatch ? this.ids : this.ids.slice(0, rows * W);
    const mask = rows === this.cfg.rowsPerBatch ? this.mask : this.mask.slice(0, rows * W);
    this.ready.push(packedBatch(this.schema, { rows, width: W, ids, mask, docStarts }));
    this.fresh();
    this.row = 0;
  }

  /** End of input: the partial row and batch go out. */
  finish(): void {
    if (this.col > 0) this.endRow();
    if (this.row > 0) this.emit();
  }
}

/** Each example of a batch: views of its ids and loss mask. */
function eachExample(batch: RecordBatch, each: (ids: Int32Array, mask: Uint8Array) => void, ctx: OperatorContext) {
  const ids = batch.getChild('tokens')?.data;
  const masks = batch.getChild('loss_mask')?.data;
  if (!ids || !masks)
    throw new Error(
      `posttrain/sft-pack: the input needs tokens and loss_mask columns (it has ${batch.schema.names.join(', ')}); put posttrain/sft-tokenize before it`,
    );
  for (let c = 0; c < ids.length; c++) {
    const d = ids[c] as Data<List>;
    const m = masks[c] as Data<List>;
    const values = d.children[0]!.values as Int32Array;
    const bits = m.children[0]!.values as Uint8Array;
    for (let r = 0; r < d.length; r++) {
      if (!d.getValid(r) || !m.getValid(r)) {
        ctx.stats.drop('null tokens', 1);
        continue;
      }
      const [a, b] = [d.valueOffsets[r]!, d.valueOffsets[r + 1]!];
      const [ma, mb] = [m.valueOffsets[r]!, m.valueOffsets[r + 1]!];
      if (b - a !== mb - ma)
        throw new Error(
          `posttrain/sft-pack: row ${r} has ${b - a} tokens but ${mb - ma} loss_mask values; they must match token ` +
            `for token`,
        );
      if (b > a) each(values.subarray(a, b), bits.subarray(ma, mb));
    }
  }
}

export const sftPack = defineOperator({
  id: 'posttrain/sft-pack',
  description:
    'SFT examples into rows of seqLen+1 (whole examples only, doc_starts at each) with the loss mask as ' +
    'attention_mask: only response tokens are targets',
  config: Config,
  input: sftTokensSchema,
  passthrough: false,
  output: (cfg) => packedOutputSchema(cfg.seqLen, { docStarts: true, mask: true }),
  module: import.meta.url,
  make: (cfg, ctx) => (source: Observable<RecordBatch<SftTokens>>) =>
    defer(() => {
      const packer = new SftPacker(cfg, packedOutputSchema(cfg.seqLen, { docStarts: true, mask: true }), ctx);
      const drain = (emit: (b: RecordBatch<Packed>) => void) => {
        for (const b of packer.ready.splice(0)) emit(b);
      };
      // 'absorb': examples are copied into the packer's buffer, so an input's credit returns at once
      return source.pipe(
        operate<SftTokens, Packed>(
          (batch, emit) => {
            eachExample(batch, (ids, mask) => packer.add(ids, mask), ctx);
            drain(emit);
          },
          {
            ctx,
            state: 'absorb',
            flush: (emit) => {
              packer.finish();
              drain(emit);
            },
          },
        ),
      );
    }),
});
