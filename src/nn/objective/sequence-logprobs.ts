// Log-probabilities of the response tokens of each row under a model: the quantity DPO compares
// between policy and reference, and PPO's per-token log pi(a|s). Rows are packed as for training
// (loss.ts: seqLen + 1 tokens, x = row[0..seqLen-1], y = row[1..seqLen]); the token at t + 1 counts
// when responseMask[t + 1] is 1 and it is not padding. Only those positions reach the head, so prompt
// and padding cost no [V]-wide logits; the head is the model's own (tied embedding or lm_head).
// The selected rows' [n, V] logits are held at once: fine for response batches, not for 50k x 8k.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../runtime/rng.ts';
import type { Gpt } from '../model/gpt.ts';
import { headLogprobSums } from '../head/head-logprob-sums.ts';
import { inputsOf, type PackedBatch } from './loss.ts';

export interface SequenceLogprobs {
  /** per row, the sum of log p over its response tokens: [batch] */
  sums: tf.Tensor1D;
  /** [batch, seqLen]: at t, log p(row[t + 1] | row[0..t]); 0 where the token does not count */
  tokens: tf.Tensor2D;
  /** [batch, seqLen]: entropy of the predicted distribution at t (nats), 0 where the token does not count */
  entropy?: tf.Tensor2D;
}

export interface SequenceLogprobsValue {
  sums: Float64Array;
  tokens: Float32Array;
  entropy?: Float32Array;
}

export interface SequenceLogprobsOptions {
  /** training: dropout masks come from it */
  rng?: Rng;
  /** also return the per-token entropy (PPO's entropy report) */
  entropy?: boolean;
}

interface Selection {
  /** flat indices into [batch * seqLen] of the counted positions */
  positions: Int32Array;
  targets: Int32Array;
  /** for every flat position, its index in `positions`, or positions.length (a zero) when not counted */
  inverse: Int32Array;
}

/** The counted positions: response tokens (responseMask) that are not padding (attentionMask). */
export function responsePositions(rows: PackedBatch, responseMask: ArrayLike<number>): Selection {
  const { batch, seqLen, inputIds } = rows;
  const width = seqLen + 1;
  if (responseMask.length !== batch * width)
    throw new Error(
      `sequenceLogprobs: response mask has ${responseMask.length} values, expected batch ${batch} x (seqLen ` +
        `${seqLen} + 1), aligned with input_ids`,
    );
  const pos: number[] = [];
  const tgt: number[] = [];
  const inverse = new Int32Array(batch * seqLen);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < seqLen; t++) {
      const j = b * width + t + 1;
      const counted = responseMask[j]! !== 0 && (rows.attentionMask ? rows.attentionMask[j]! !== 0 : true);
      inverse[b * seqLen + t] = counted ? pos.length : -1;
      if (counted) {
        pos.push(b * seqLen + t);
        tgt.push(inputIds[j]!);
      }
    }
  for (let i = 0; i < inverse.length; i++) if (inverse[i]! < 0) inverse[i] = pos.length;
  return { positions: Int32Array.from(pos), targets: Int32Array.from(tgt), inverse };
}

/** The same from hidden states [batch * seqLen, d] and the head [V, d], so a caller that also runs a
 * value head on `hidden` needs one forward pass. */
export function logprobsFromHidden(
  hidden: tf.Tensor2D,
  headMatrix: tf.Tensor2D,
  rows: PackedBatch,
  responseMask: ArrayLike<number>,
  opts: { entropy?: boolean } = {},
): SequenceLogprobs {
  const { batch, seqLen } = rows;
  const v = headMatrix.shape[0];
  const sel = responsePositions(rows, responseMask);
  for (let i = 0; i < sel.targets.length; i++)
    if (!(sel.targets[i]! >= 0 && sel.targets[i]! < v))
      throw new Error(`sequenceLogprobs: token ${sel.targets[i]} is outside the vocabulary [0, ${v})`);
  const n = sel.positions.length;
  // back to [batch, seqLen]: gather from the n values plus a trailing 0 (gather has a gradient)
  const spread = (x: tf.Tensor1D) =>
    tf.gather(tf.concat([x, tf.zeros([1])]), tf.tensor1d(sel.inverse, 'int32')).reshape([batch, seqLen]) as tf.Tensor2D;
  if (n === 0) {
    const zeros = tf.zeros([batch, seqLen]) as tf.Tensor2D;
    return { sums: tf.zeros([batch]) as tf.Tensor1D, tokens: zeros, entropy: opts.entropy ? zeros.clone() : undefined };
  }
  const h = tf.gather(hidden, tf.tensor1d(sel.positions, 'int32')) as tf.Tensor2D;
  // an explicit transpose: a plain product is the fast path on wasm (backend/matmul.ts)
  const logits = tf.matMul(h, tf.transpose(headMatrix));
  const lsm = tf.logSoftmax(logits) as tf.Tensor2D;
  const flat = Int32Array.from(sel.targets, (y, i) => i * v + y);
  const picked = tf.gather(lsm.reshape([-1]), tf.tensor1d(flat, 'int32')) as tf.Tensor1D;
  const tokens = spread(picked);
  const sums = tf.sum(tokens, 1) as tf.Tensor1D;
  const entropy = opts.entropy ? spread(tf.neg(tf.sum(tf.mul(tf.exp(lsm), lsm), 1)) as tf.Tensor1D) : undefined;
  return { sums, tokens, entropy };
}

/** Differentiable: call inside tf.variableGrads (or tf.tidy); gradients reach the model's variables. */
export function sequenceLogprobs(
  model: Gpt,
  rows: PackedBatch,
  responseMask: ArrayLike<number>,
  opts: SequenceLogprobsOptions = {},
): SequenceLogprobs {
  const h = model.hidden(inputsOf(rows), { rng: opts.rng });
  return logprobsFromHidden(h, model.headMatrix(), rows, responseMask, opts);
}

/** Only the per-row sums [batch] (what DPO compares), through the fused head (head-logprob-sums.ts): no
 * [tokens, V] logits, so far faster on a 50k vocabulary; equal to `sequenceLogprobs(...).sums` to float
 * rounding. Differentiable. */
export function sequenceLogprobSums(
  model: Gpt,
  rows: PackedBatch,
  responseMask: ArrayLike<number>,
  opts: { rng?: Rng } = {},
): tf.Tensor1D {
  const sel = responsePositions(rows, responseMask);
  if (sel.positions.length === 0) return tf.zeros([rows.batch]) as tf.Tensor1D;
  const hidden = model.hidden(inputsOf(rows), { rng: opts.rng });
  const h = tf.gather(hidden, tf.tensor1d(sel.positions, 'int32')) as tf.Tensor2D;
  const group = Int32Array.from(sel.positions, (p) => Math.floor(p / rows.seqLen));
  return headLogprobSums(h, model.headMatrix(), sel.targets, group, rows.batch);
}

/** The same as numbers (no dropout, no gradients): reference and old-policy log-probs. */
export function sequenceLogprobsValue(
  model: Gpt,
  rows: PackedBatch,
  responseMask: ArrayLike<number>,
  opts: { entropy?: boolean } = {},
): SequenceLogprobsValue {
  const out = tf.tidy(() => {
    const r = sequenceLogprobs(model, rows, responseMask, { entropy: opts.entropy });
    return r.entropy ? [r.tokens, r.entropy] : [r.tokens];
  });
  const tokens = out[0]!.dataSync() as Float32Array;
  const entropy = out[1] ? (out[1].dataSync() as Float32Array) : undefined;
  tf.dispose(out);
  const { batch, seqLen } = rows;
  // summed in float64 so long responses lose no precision
  const sums = new Float64Array(batch);
  for (let b = 0; b < batch; b++) for (let t = 0; t < seqLen; t++) sums[b] = sums[b]! + tokens[b * seqLen + t]!;
  return { sums, tokens: Float32Array.from(tokens), entropy: entropy ? Float32Array.from(entropy) : undefined };
}
