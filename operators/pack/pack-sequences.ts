// Concatenate-and-chunk (nanoGPT's data layout): documents' tokens joined into one stream, EOS after
// each document, cut into rows of seqLen+1 tokens. Row i holds stream positions [i*seqLen, i*seqLen +
// seqLen]: its first seqLen tokens are the inputs and its last seqLen the next-token labels, so
// consecutive rows share one token (row i's last = row i+1's first) and every stream token after the
// first is a label exactly once. Rows go out in batches of rowsPerBatch, each batch's ids one
// Int32Array. The tail (< one row) waits for the next input; at the end it is dropped (dropLast) or
// padded with padId, then an attention_mask column says which tokens are real.
import { defer } from 'rxjs';
import { z } from 'zod';
import { defineOperator } from '../../src/core/operator.ts';
import { operate } from '../../src/core/operate.ts';
import type { OperatorContext } from '../../src/core/context.ts';
import type { Packed } from '../../src/schema/columns.ts';
import type { RecordBatch, Schema } from 'apache-arrow';
import { sharedInt32 } from '../../src/runtime/shared-memory.ts';
import { copyElements } from '../../src/runtime/shared-copy.ts';
import { checkEos, eachDocument, eosConfig, tokensInput, type TokensIn } from './documents.ts';
import { IntList, packedBatch, packedOutputSchema } from './packed-batch.ts';

const Config = z
  .object({
    seqLen: z
      .number()
      .int()
      .min(1)
      .max(1 << 20)
      .describe('tokens of input per row; rows hold seqLen+1 (inputs and shifted labels)'),
    rowsPerBatch: z
      .number()
      .int()
      .min(1)
      .max(1 << 16)
      .default(64)
      .describe('rows per output batch (the last batch may have fewer)'),
    ...eosConfig,
    docStarts: z
      .boolean()
      .default(false)
      .describe(
        'add doc_starts: offsets in the row (0..seqLen) where a document begins, for cross-document attention masking',
      ),
    dropLast: z
      .boolean()
      .default(true)
      .describe('drop the final partial row; false pads it with padId and adds attention_mask'),
    padId: z.number().int().min(0).default(0).describe('id written into padding (masked out by attention_mask)'),
  })
  .superRefine((c, ctx) => {
    checkEos(c, ctx);
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

/** The packer's state: the output batch being filled (its last row partial). Bound: one output batch,
 * rowsPerBatch*(seqLen+1) ids. */
class SequencePacker {
  readonly width: number;
  /** finished batches, taken by the operator after each input */
  readonly ready: RecordBatch<Packed>[] = [];
  private ids: Int32Array;
  private row = 0;
  private col = 0;
  private rowsEver = 0;
  private readonly starts = new IntList();
  private readonly rowStart: Int32Array;
  private startPending = false;

  constructor(
    private readonly cfg: Cfg,
    private readonly schema: Schema<Packed>,
    private readonly ctx: OperatorContext,
  ) {
    this.width = cfg.seqLen + 1;
    this.ids = sharedInt32(cfg.rowsPerBatch * this.width);
    this.rowStart = new Int32Array(cfg.rowsPerBatch + 1);
  }

  /** The next token written is the first of a document. */
  beginDocument(): void {
    this.startPending = this.cfg.docStarts;
  }

  write(src: Int32Array): void {
    const W = this.width;
    for (let k = 0; k < src.length; ) {
      const n = Math.min(W - this.col, src.length - k);
      copyElements(this.ids, this.row * W + this.col, src.subarray(k, k + n)); // rows start at any offset mod 8
      if (this.startPending) {
        this.starts.push(this.col);
        this.startPending = false;
      }
      this.col += n;
      k += n;
      if (this.col === W) this.endRow();
    }
  }

  /** A full row: the next one begins with its last token (the overlap), which may be a doc start. */
  private endRow(): void {
    const W = this.width;
    const last = this.ids[this.row * W + W - 1]!;
    const n = this.starts.length;
    const startAtEnd = n > this.rowStart[this.row]! && this.starts.data[n - 1] === W - 1;
    this.row++;
    this.rowsEver++;
    this.rowStart[this.row] = n;
    if (this.row === this.cfg.rowsPerBatch) {
      this.emit(this.row, this.ids);
      this.ids = sharedInt32(this.cfg.rowsPerBatch * W);
      this.row = 0;
    }
    this.ids[this.row * W] = last;
    this.col = 1;
    if (startAtEnd) this.starts.push(0);
  }

  private emit(rows: number, ids: Int32Array, padFrom = this.width): void {
    const W = this.width;
    let mask: Uint8Array | undefined;
    if (!this.cfg.dropLast) {
      mask = new Uint8Array(rows * W).fill(1);
      mask.fill(0, (rows - 1) * W + padFrom);
    }
    const docStarts = this.cfg.docStarts
      ? { offsets: this.rowStart.slice(0, rows + 1), values: this.starts.take() }
      : undefined;
    this.ready.push(packedBatch(this.schema, { rows, width: W, ids, mask, docStarts }));
  }

  /** End of input: the partial row is padded or dropped, and the partial batch goes out. */
  finish(): void {
    const W = this.width;
    // after a full row the partial one starts with the overlap token, which that row already holds
    const fresh = this.col - (this.rowsEver > 0 ? 1 : 0);
    let padFrom = W;
    if (!this.cfg.dropLast && this.col >= 2) {
      this.ids.fill(this.cfg.padId, this.row * W + this.col, (this.row + 1) * W);
      this.ctx.stats.count('pad tokens', W - this.col);
      padFrom = this.col;
      this.row++;
      this.rowStart[this.row] = this.starts.length;
    } else {
      this.ctx.stats.count('tail tokens dropped', fresh);
      this.starts.length = this.rowStart[this.row]!;
    }
    if (this.row > 0) this.emit(this.row, this.ids.subarray(0, this.row * W), padFrom);
    this.row = 0;
    this.col = 0;
  }
}

export const packSequences = defineOperator({
  id: 'pack/pack-sequences',
  description:
    'concatenate documents (EOS between) and cut into rows of seqLen+1 tokens (inputs and labels share a row, ' +
    'consecutive rows overlap by one token); optional doc_starts; last partial row dropped or padded with ' +
    'attention_mask',
  config: Config,
  input: tokensInput,
  passthrough: false,
  output: (cfg) => packedOutputSchema(cfg.seqLen, { docStarts: cfg.docStarts, mask: !cfg.dropLast }),
  module: import.meta.url,
  make: (cfg, ctx) => (source) =>
    defer(() => {
      const packer = new SequencePacker(
        cfg,
        packedOutputSchema(cfg.seqLen, { docStarts: cfg.docStarts, mask: !cfg.dropLast }),
        ctx,
      );
      const eos = Int32Array.of(cfg.eosId ?? 0);
      const drain = (emit: (b: RecordBatch<Packed>) => void) => {
        for (const b of packer.ready.splice(0)) emit(b);
      };
      // 'absorb': tokens are copied into the packer's own buffer (declared bound: one output batch), so
      // an input's credit returns at once. Holding inputs until an output carries them would stall a
      // run whose budget is smaller than the inputs one output batch needs.
      return source.pipe(
        operate<TokensIn, Packed>(
          (batch, emit) => {
            eachDocument(batch, ctx, (ids) => {
              packer.beginDocument();
              packer.write(ids);
              if (cfg.appendEos) packer.write(eos);
            });
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
