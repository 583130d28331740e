// The pair objectives of the trainer on micro-batches of pair rows (pair-rows.ts): 'reward' trains a
// reward model (the model's score.* head on the last response token of each half, pairwise logistic
// loss with an optional margin: objective/reward.ts); 'dpo' trains the policy against a frozen
// reference (objective/dpo.ts): the reference's sequence log-probs are numbers computed first, the
// policy's a tensor inside the gradient. Chosen and rejected halves go through the model as one batch.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../runtime/rng.ts';
import type { Gpt } from '../model/gpt.ts';
import { dpoLoss } from '../objective/dpo.ts';
import { inputsOf, type PackedBatch } from '../objective/loss.ts';
import { rewardLoss } from '../objective/reward.ts';
import { sequenceLogprobSums } from '../objective/sequence-logprobs.ts';
import { lastResponseIndex, splitPairRows, stackPairs } from './pair-rows.ts';

export type PairObjective =
  | { kind: 'reward' /** subtracted from every chosen - rejected score gap; 0: none */; margin?: number }
  | {
      kind: 'dpo';
      beta: number;
      labelSmoothing?: number /** frozen: no gradients, no optimizer state */;
      reference: Gpt;
    };

export const isPairObjective = (o: { kind: string }): o is PairObjective => o.kind === 'reward' || o.kind === 'dpo';

/** Reward scores [rows] of `rows`: the score head on the hidden state at `last[b]` of row b. */
export function headScores(model: Gpt, rows: PackedBatch, last: Int32Array, rng?: Rng): tf.Tensor1D {
  const w = model.params.get('score.weight');
  const bias = model.params.get('score.bias');
  if (!w || !bias)
    throw new Error('reward objective: the model has no reward head (score.*); set model.rewardHead: true');
  const h = model.hidden(inputsOf(rows), { rng });
  const at = Int32Array.from(last, (t, b) => b * rows.seqLen + t);
  const picked = tf.gather(h, tf.tensor1d(at, 'int32')) as tf.Tensor2D;
  return tf.add(tf.matMul(picked, w as tf.Tensor2D), bias).reshape([-1]) as tf.Tensor1D;
}

/** The micro-batch's loss as a function for tf.variableGrads; the number work (row splitting, the
 * reference's log-probs) is done here, once, outside it. */
export function pairLossFn(model: Gpt, batch: PackedBatch, obj: PairObjective, rng?: Rng): () => tf.Scalar {
  const pairs = splitPairRows(batch);
  const both = stackPairs(pairs);
  const n = pairs.chosen.batch;
  if (obj.kind === 'reward') {
    const last = lastResponseIndex(both);
    const margin = obj.margin ? new Float32Array(n).fill(obj.margin) : undefined;
    return () => {
      const s = headScores(model, both, last, rng);
      return rewardLoss(s.slice(0, n), s.slice(n, n), margin);
    };
  }
  // the reference's sums as the policy's tensor path forms them (float32 tf.sum), so a policy equal to
  // the reference gives z = 0 exactly (loss ln 2), not a float64-vs-float32 rounding difference
  const refSums = tf.tidy(() => sequenceLogprobSums(obj.reference, both, both.attentionMask!));
  const ref = Float64Array.from(refSums.dataSync());
  refSums.dispose();
  const o = { beta: obj.beta, labelSmoothing: obj.labelSmoothing };
  return () => {
    const s = sequenceLogprobSums(model, both, both.attentionMask!, { rng });
    const x = { policyChosen: s.slice(0, n), policyRejected: s.slice(n, n) };
    return dpoLoss({ ...x, refChosen: ref.subarray(0, n), refRejected: ref.subarray(n) }, o);
  };
}

/** Per pair numbers of a micro-batch without gradients or dropout (evaluation): reward scores, or
 * the policy's and the reference's sequence log-probs. */
export interface PairValues {
  chosen: Float64Array;
  rejected: Float64Array;
  refChosen?: Float64Array;
  refRejected?: Float64Array;
  /** response tokens of the pairs (both halves) */
  tokens: number;
}

export function pairValues(model: Gpt, batch: PackedBatch, obj: PairObjective): PairValues {
  const pairs = splitPairRows(batch);
  const both = stackPairs(pairs);
  const n = pairs.chosen.batch;
  let tokens = 0;
  for (let b = 0; b < both.batch; b++)
    for (let j = 1; j <= both.seqLen; j++) tokens += both.attentionMask![b * (both.seqLen + 1) + j]! ? 1 : 0;
  if (obj.kind === 'reward') {
    const last = lastResponseIndex(both);
    const t = tf.tidy(() => headScores(model, both, last));
    const s = Float64Array.from(t.dataSync());
    t.dispose();
    return { chosen: s.slice(0, n), rejected: s.slice(n), tokens };
  }
  const sums = (m: Gpt) => {
    const t = tf.tidy(() => sequenceLogprobSums(m, both, both.attentionMask!));
    const v = Float64Array.from(t.dataSync());
    t.dispose();
    return v;
  };
  const p = sums(model);
  const r = sums(obj.reference);
  return { chosen: p.slice(0, n), rejected: p.slice(n), refChosen: r.slice(0, n), refRejected: r.slice(n), tokens };
}
