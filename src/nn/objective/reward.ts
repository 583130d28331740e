// The reward model's objective on ranked pairs (InstructGPT; TRL's RewardTrainer): for scores r_c of
// the chosen and r_r of the rejected completion, loss = mean over pairs of -log sigmoid(r_c - r_r - m)
// with an optional margin m per pair (Llama 2's margin for strongly preferred pairs); accuracy is the
// fraction of pairs scored the right way round, ties counted as wrong.
import * as tf from '@tensorflow/tfjs';
import type { Gpt, GptInput } from '../model/gpt.ts';
import type { ScalarHead } from '../model/scalar-head.ts';

export interface RewardLossValue {
  loss: number;
  /** mean(r_chosen > r_rejected) */
  accuracy: number;
  /** mean(r_chosen - r_rejected) */
  margin: number;
}

function checkPairs(where: string, chosen: number, rejected: number, margin?: ArrayLike<number>): void {
  if (chosen !== rejected)
    throw new Error(`${where}: ${chosen} chosen scores but ${rejected} rejected; give one of each per pair`);
  if (chosen === 0) throw new Error(`${where}: no pairs`);
  if (margin && margin.length !== chosen) throw new Error(`${where}: ${margin.length} margins for ${chosen} pairs`);
}

/** Differentiable pairwise logistic loss of reward scores [pairs] (tf scalar). */
export function rewardLoss(chosen: tf.Tensor1D, rejected: tf.Tensor1D, margin?: ArrayLike<number>): tf.Scalar {
  checkPairs('rewardLoss', chosen.shape[0], rejected.shape[0], margin);
  return tf.tidy(() => {
    let z = tf.sub(chosen, rejected);
    if (margin) z = tf.sub(z, tf.tensor1d(Array.from(margin), 'float32'));
    return tf.mean(negLogSigmoidTensor(z)) as tf.Scalar;
  });
}

/** -log sigmoid(z) = softplus(-z) as a tensor. Not tf.logSigmoid: its gradient closes over its input,
 * which tf.grads disposes first when that input is an intermediate (the backward pass then fails). */
export const negLogSigmoidTensor = (z: tf.Tensor): tf.Tensor => tf.softplus(tf.neg(z));

/** -log sigmoid(z) = softplus(-z), without overflow. */
export const negLogSigmoid = (z: number): number => (z >= 0 ? Math.log1p(Math.exp(-z)) : -z + Math.log1p(Math.exp(z)));

/** The loss and accuracy from score arrays, in float64 (evaluation on held-out pairs). */
export function rewardLossValue(
  chosen: ArrayLike<number>,
  rejected: ArrayLike<number>,
  margin?: ArrayLike<number>,
): RewardLossValue {
  checkPairs('rewardLossValue', chosen.length, rejected.length, margin);
  let loss = 0;
  let right = 0;
  let gap = 0;
  for (let i = 0; i < chosen.length; i++) {
    const d = chosen[i]! - rejected[i]!;
    loss += negLogSigmoid(d - (margin ? margin[i]! : 0));
    if (d > 0) right++;
    gap += d;
  }
  const n = chosen.length;
  return { loss: loss / n, accuracy: right / n, margin: gap / n };
}

/** Reward scores of token rows [batch, seqLen]: the head on the final hidden state at each row's
 * last real token (`lastIndex`, see lastRealIndex). Differentiable in the model's and head's variables. */
export function rewardScores(model: Gpt, head: ScalarHead, input: GptInput, lastIndex: Int32Array): tf.Tensor1D {
  if (lastIndex.length !== input.batch)
    throw new Error(`rewardScores: ${lastIndex.length} last indices for ${input.batch} rows`);
  return tf.tidy(() => head.lastTokenScores(model.hidden(input), input.seqLen, lastIndex));
}
