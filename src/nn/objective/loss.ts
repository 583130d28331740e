// Training objectives over packed rows of seqLen + 1 tokens (DESIGN.md §3: inputs and shifted labels
// share a row). Autoregressive: x = row[0..seqLen-1], y = row[1..seqLen], cross-entropy on every
// token (or those the padding mask keeps). Masked LM: x = row[0..seqLen-1] with BERT-style masking,
// loss on the masked positions only. Both as a differentiable scalar (training) or a number (eval).
// Document boundaries (doc_starts, with the model's docMasking): the packer puts EOS after each
// document, so a row reads A... EOS B...; the target at A's EOS is still the row's next token, B's
// first, predicted from A alone (attention and positions restart at B: gpt.ts), as Megatron does with
// reset_attention_mask. Every position keeps a target, so a packed row's loss is exactly the
// token-weighted mean of its documents' losses run one by one (A + EOS with B's first token as the
// last label, then B). Padding (attention_mask 0) is never a target: its weight is 0.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../runtime/rng.ts';
import type { Gpt, GptInput } from '../model/gpt.ts';
import { headLoss, headLossValue, type HeadLossOptions, type HeadTuning } from '../head/head-loss.ts';

export interface PackedBatch {
  /** row-major [batch, seqLen + 1] */
  inputIds: Int32Array;
  batch: number;
  seqLen: number;
  /** per row, positions where a new document starts */
  docStarts?: ArrayLike<ArrayLike<number>>;
  /** row-major [batch, seqLen + 1], 1 for real tokens, 0 for padding (Packed.attention_mask) */
  attentionMask?: Uint8Array;
}

export interface LossOptions {
  labelSmoothing?: number;
  /** training: dropout masks come from it */
  rng?: Rng;
  /** how the output head pass is cut up (head-loss.ts) */
  head?: HeadTuning;
}

/** The model inputs x = row[0..seqLen-1] of every row. */
export function inputsOf(b: PackedBatch): GptInput {
  const { batch, seqLen } = b;
  if (b.inputIds.length !== batch * (seqLen + 1)) {
    throw new Error(
      `loss: input_ids has ${b.inputIds.length} values, expected batch ${batch} x (seqLen ${seqLen} + 1)`,
    );
  }
  const ids = new Int32Array(batch * seqLen);
  for (let r = 0; r < batch; r++) ids.set(b.inputIds.subarray(r * (seqLen + 1), r * (seqLen + 1) + seqLen), r * seqLen);
  return { ids, batch, seqLen, docStarts: b.docStarts };
}

/** Next-token targets y = row[1..seqLen] and their weights (0 where the target is padding). */
export function nextTokenTargets(b: PackedBatch): HeadLossOptions {
  const { batch, seqLen } = b;
  const targets = new Int32Array(batch * seqLen);
  const weights = b.attentionMask ? new Float32Array(batch * seqLen) : undefined;
  for (let r = 0; r < batch; r++) {
    const o = r * (seqLen + 1);
    targets.set(b.inputIds.subarray(o + 1, o + seqLen + 1), r * seqLen);
    if (weights) for (let i = 0; i < seqLen; i++) weights[r * seqLen + i] = b.attentionMask![o + i + 1]!;
  }
  return { targets, weights };
}

/** Mean next-token cross-entropy as a scalar that backpropagates into the model's variables. */
export function autoregressiveLoss(model: Gpt, b: PackedBatch, o: LossOptions = {}): tf.Scalar {
  const h = model.hidden(inputsOf(b), { rng: o.rng });
  return headLoss(h, model.headMatrix(), { ...nextTokenTargets(b), labelSmoothing: o.labelSmoothing, ...o.head });
}

/** The same loss as a number, without gradients or dropout (evaluation). */
export function autoregressiveLossValue(model: Gpt, b: PackedBatch, o: Omit<LossOptions, 'rng'> = {}): number {
  const h = tf.tidy(() => model.hidden(inputsOf(b)));
  try {
    return headLossValue(h, model.headMatrix(), {
      ...nextTokenTargets(b),
      labelSmoothing: o.labelSmoothing,
      ...o.head,
    });
  } finally {
    h.dispose();
  }
}

/** A masked-LM example: corrupted inputs and, for the chosen positions, the original tokens. */
export interface MaskedBatch {
  input: GptInput;
  /** flat indices into [batch * seqLen] of the positions the loss is taken on */
  positions: Int32Array;
  labels: Int32Array;
}

/** Mean cross-entropy at the masked positions; only those rows of the hidden states reach the head. */
export function maskedLmLoss(model: Gpt, m: MaskedBatch, o: LossOptions = {}): tf.Scalar {
  const h = model.hidden(m.input, { rng: o.rng });
  const rows = tf.gather(h, tf.tensor1d(m.positions, 'int32'));
  return headLoss(rows, model.headMatrix(), { targets: m.labels, labelSmoothing: o.labelSmoothing, ...o.head });
}

export function maskedLmLossValue(model: Gpt, m: MaskedBatch, o: Omit<LossOptions, 'rng'> = {}): number {
  const rows = tf.tidy(() => tf.gather(model.hidden(m.input), tf.tensor1d(m.positions, 'int32')));
  try {
    return headLossValue(rows, model.headMatrix(), { targets: m.labels, labelSmoothing: o.labelSmoothing, ...o.head });
  } finally {
    rows.dispose();
  }
}
