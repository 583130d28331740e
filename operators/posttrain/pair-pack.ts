// Preference pairs into training rows for a reward model or DPO: each pair's prompt and its two
// responses go through the SFT template (sft-template.ts; prompt and response tokenized apart and
// joined, EOS after the response) and become one row of 2 x (seqLen + 1) tokens: the chosen example's
// row of seqLen + 1, then the rejected one's, so the trainer's seeded shuffle keeps a pair together
// (src/nn/train/pair-rows.ts cuts the halves apart). One example per half, right-padded, so a half's
// sequence log-prob and its last-token reward are its example's alone. attention_mask is the loss mask as sft-pack writes it: 1 exactly at the response
// tokens (and EOS), 0 at the prompt, at the row's first token (nothing predicts it) and at padding; the
// last 1 of a row is where a reward model reads its score (lastRealIndex of the mask).
import { defer, type Observable } from 'rxjs';
import { Field, Schema, Utf8, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { defineOperator } from '../../src/core/operator.ts';
import { operate } from '../../src/core/operate.ts';
import type { OperatorContext } from '../../src/core/context.ts';
import type { Packed } from '../../src/schema/columns.ts';
import { ENCODINGS, specialTokenId } from '../tokenize/engine/encodings.ts';
import { createEngine, type TokenEngine } from '../tokenize/engine/engines.ts';
import { IdBuffer } from '../tokenize/engine/id-buffer.ts';
import { packedBatch, packedOutputSchema } from '../pack/packed-batch.ts';
import { renderSft, sftTemplateSchema } from './sft-template.ts';

type PairText = { prompt: Utf8; chosen: Utf8; rejected: Utf8 };

/** What pair-pack reads (nullable, so any reader's strings fit; a null drops the pair). */
export const pairTextSchema = () =>
  new Schema<PairText>([
    new Field('prompt', new Utf8(), true),
    new Field('chosen', new Utf8(), true),
    new Field('rejected', new Utf8(), true),
  ]);

const Config = z
  .object({
    seqLen: z
      .number()
      .int()
      .min(1)
      .max(1 << 20)
      .describe('input tokens of each example; a pair is one row of 2 x (seqLen+1) tokens, chosen then rejected'),
    template: sftTemplateSchema.prefault({}).describe('how the prompt and each response become the texts tokenized'),
    encoding: z.enum(ENCODINGS).default('gpt2').describe("tiktoken encoding of the ids (the model's)"),
    pairsPerBatch: z
      .number()
      .int()
      .min(1)
      .max(32_768)
      .default(32)
      .describe('pairs per output batch (one row of two examples each; the last batch may have fewer)'),
    overflow: z
      .enum(['truncate', 'drop'])
      .default('truncate')
      .describe(
        'a response that does not fit after the prompt: "truncate" cuts its end (the pair is dropped when the ' +
          'prompt leaves no room), "drop" drops the pair',
      ),
    padId: z.number().int().min(0).default(0).describe("id written after a row's example (never a target)"),
  })
  .superRefine((c, ctx) => {
    if (2 * c.pairsPerBatch * (c.seqLen + 1) > 1 << 28)
      ctx.addIssue({
        code: 'custom',
        path: ['pairsPerBatch'],
        message:
          `2*pairsPerBatch*(seqLen+1) = ${2 * c.pairsPerBatch * (c.seqLen + 1)} ids is over 2^28 (1 GiB per ` +
          `batch); use fewer pairs per batch`,
      });
  });
type Cfg = z.output<typeof Config>;

/** The tokens of one text (a fresh array). */
function encode(engine: TokenEngine, text: string): Int32Array {
  const buf = new IdBuffer(text.length + 16);
  engine.encode(text, buf);
  return buf.view().slice();
}

/** The packer's state: the batch being filled. Bound: one batch of 2*pairsPerBatch*(seqLen+1). */
class PairPacker {
  readonly ready: RecordBatch<Packed>[] = [];
  private readonly width: number;
  private ids!: Int32Array;
  private mask!: Uint8Array;
  private row = 0;

  constructor(
    private readonly cfg: Cfg,
    private readonly schema: Schema<Packed>,
    private readonly ctx: OperatorContext,
  ) {
    this.width = cfg.seqLen + 1;
    this.fresh();
  }

  private fresh(): void {
    this.ids = new Int32Array(2 * this.cfg.pairsPerBatch * this.width).fill(this.cfg.padId);
    this.mask = new Uint8Array(2 * this.cfg.pairsPerBatch * this.width);
  }

  /** A pair: its prompt's tokens and each response's (EOS included); both rows or neither. */
  add(prompt: Int32Array, chosen: Int32Array, rejected: Int32Array): void {
    const W = this.width;
    const room = W - prompt.length;
    const over = (chosen.length > room ? 1 : 0) + (rejected.length > room ? 1 : 0);
    if (over > 0 && this.cfg.overflow === 'drop') return this.ctx.stats.drop('pair longer than a row', 1);
    // a row's first token is never a target (nothing predicts it): each row needs a target after it
    const targets = (r: Int32Array) => Math.min(r.length, Math.max(0, room)) - (prompt.length === 0 ? 1 : 0);
    if (targets(chosen) < 1 || targets(rejected) < 1)
      return this.ctx.stats.drop('no response token fits after the prompt', 1);
    if (over > 0) this.ctx.stats.count('responses truncated', over);
    for (const response of [chosen, rejected]) {
      const at = this.row * W;
      const r = response.subarray(0, room);
      this.ids.set(prompt, at);
      this.ids.set(r, at + prompt.length);
      this.mask.fill(1, at + prompt.length, at + prompt.length + r.length);
      this.mask[at] = 0;
      this.ctx.stats.count('pad tokens', W - prompt.length - r.length);
      this.row++;
    }
    this.ctx.stats.count('pairs', 1);
    if (this.row === 2 * this.cfg.pairsPerBatch) this.emit();
  }

  /** The pairs so far as a batch: the two rows of a pair are adjacent in the buffer, so a pair is one
   * row of 2 x (seqLen + 1) tokens, [chosen | rejected] (what the trainer's pair objectives read:
   * src/nn/train/pair-rows.ts); its doc_starts are [0, seqLen + 1]: two examples. */
  emit(): void {
    const rows = this.row / 2;
    if (rows === 0) return;
    const W = this.width;
    const full = rows === this.cfg.pairsPerBatch;
    const docStarts = {
      offsets: Int32Array.from({ length: rows + 1 }, (_, i) => 2 * i),
      values: Int32Array.from({ length: 2 * rows }, (_, i) => (i % 2) * W),
    };
    const ids = full ? this.ids : this.ids.slice(0, 2 * rows * W);
    const mask = full ? this.mask : this.mask.slice(0, 2 * rows * W);
    this.ready.push(packedBatch(this.schema, { rows, width: 2 * W, ids, mask, docStarts }));
    this.fresh();
    this.row = 0;
  }
}

/** Each pair of a batch as texts, nulls dropped. */
function eachPair(
  batch: RecordBatch,
  each: (prompt: string, chosen: string, rejected: string) => void,
  ctx: OperatorContext,
): void {
  const cols = (['prompt', 'chosen', 'rejected'] as const).map((n) => batch.getChild(n));
  const [p, c, r] = cols;
  if (!p || !c || !r)
    throw new Error(
      `posttrain/pair-pack: the input needs prompt, chosen and rejected columns (it has ${batch.schema.names.join(', ')}); read pairs with posttrain/spam-preference-pairs or a reader of such records`,
    );
  for (let i = 0; i < batch.numRows; i++) {
    const [a, b, d] = [p.get(i), c.get(i), r.get(i)] as [string | null, string | null, string | null];
    if (a === null || b === null || d === null) {
      ctx.stats.drop('null prompt, chosen or rejected', 1);
      continue;
    }
    each(a, b, d);
  }
}

export const pairPack = defineOperator({
  id: 'posttrain/pair-pack',
  description:
    'preference pairs through the SFT template to one row of 2 x (seqLen+1) tokens each, [chosen | rejected], ' +
    'attention_mask 1 on the response tokens only',
  config: Config,
  input: pairTextSchema,
  passthrough: false,
  output: (cfg) => packedOutputSchema(2 * cfg.seqLen + 1, { docStarts: true, mask: true }),
  module: import.meta.url,
  make: (cfg, ctx) => (source: Observable<RecordBatch<PairText>>) =>
    defer(() => {
      const engine = createEngine('flowlm', cfg.encoding);
      const eos = cfg.template.eos ? [specialTokenId(cfg.encoding, '<|endoftext|>')] : [];
      const response = (text: string) => Int32Array.from([...encode(engine, text), ...eos]);
      const packer = new PairPacker(cfg, packedOutputSchema(2 * cfg.seqLen + 1, { docStarts: true, mask: true }), ctx);
      const drain = (emit: (b: RecordBatch<Packed>) => void) => {
        for (const b of packer.ready.splice(0)) emit(b);
      };
      // 'absorb': pairs are copied into the packer's buffer, so an input's credit returns at once
      return source.pipe(
        operate<PairText, Packed>(
          (batch, emit) => {
            eachPair(
              batch,
              (prompt, chosen, rejected) => {
                const c = renderSft(cfg.template, prompt, chosen);
                const r = renderSft(cfg.template, prompt, rejected);
                packer.add(encode(engine, c.prompt), response(c.response), response(r.response));
              },
              ctx,
            );
            drain(emit);
          },
          {
            ctx,
            state: 'absorb',
            flush: (emit) => {
              packer.emit();
              drain(emit);
            },
          },
        ),
      );
    }),
});
