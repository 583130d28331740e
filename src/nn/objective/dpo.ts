// Direct Preference Optimization (Rafailov et al. 2023), the sigmoid loss as TRL's DPOTrainer: with
// sequence log-probs of the chosen and rejected completions under the policy (logp) and the frozen
// reference (ref), z = (logp_c - ref_c) - (logp_r - ref_r) and
//   loss = mean(-(1 - eps) log sigmoid(beta z) - eps log sigmoid(-beta z))
// where eps is conservative DPO's label smoothing (the chance a pair's label is flipped; 0 is plain
// DPO). The implicit rewards beta (logp - ref) are reported with their accuracy (chosen > rejected).
// With policy = reference every z is 0 and the loss is ln 2.
import * as tf from '@tensorflow/tfjs';
import { negLogSigmoid, negLogSigmoidTensor } from './reward.ts';

export interface DpoOptions {
  /** temperature of the implicit reward; TRL's default 0.1 */
  beta: number;
  /** cDPO label smoothing in [0, 0.5); default 0 */
  labelSmoothing?: number;
}

/** Policy log-probs (tf tensors for training, or numbers) and the reference's (numbers: it is frozen). */
export interface DpoInputs<T> {
  policyChosen: T;
  policyRejected: T;
  refChosen: ArrayLike<number>;
  refRejected: ArrayLike<number>;
}

export interface DpoStats {
  loss: number;
  /** beta (logp_c - ref_c), per pair */
  rewardsChosen: Float64Array;
  rewardsRejected: Float64Array;
  /** mean(rewardsChosen > rewardsRejected) */
  rewardAccuracy: number;
  /** mean(rewardsChosen - rewardsRejected) */
  rewardMargin: number;
}

function check(o: DpoOptions, n: number, lengths: number[]): void {
  if (!(o.beta > 0)) throw new Error(`dpo: beta ${o.beta} must be > 0`);
  const eps = o.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps < 0.5)) throw new Error(`dpo: labelSmoothing ${eps} must be in [0, 0.5)`);
  if (n === 0) throw new Error('dpo: no pairs');
  if (lengths.some((l) => l !== n))
    throw new Error(
      `dpo: policy chosen/rejected and reference chosen/rejected have lengths ${lengths}; give one per pair`,
    );
}

/** The DPO loss as a tf scalar that backpropagates into the policy log-probs. */
export function dpoLoss(x: DpoInputs<tf.Tensor1D>, o: DpoOptions): tf.Scalar {
  const n = x.policyChosen.shape[0];
  check(o, n, [x.policyRejected.shape[0], x.refChosen.length, x.refRejected.length]);
  const eps = o.labelSmoothing ?? 0;
  // the reference's log-ratio is a constant: fold it into one tensor
  const refRatio = Float32Array.from({ length: n }, (_, i) => x.refChosen[i]! - x.refRejected[i]!);
  return tf.tidy(() => {
    const z = tf.mul(tf.sub(tf.sub(x.policyChosen, x.policyRejected), tf.tensor1d(refRatio)), o.beta);
    let losses = tf.mul(negLogSigmoidTensor(z), 1 - eps);
    if (eps > 0) losses = tf.add(losses, tf.mul(negLogSigmoidTensor(tf.neg(z)), eps));
    return tf.mean(losses) as tf.Scalar;
  });
}

/** The loss and its reports from numbers, in float64. */
export function dpoStats(x: DpoInputs<ArrayLike<number>>, o: DpoOptions): DpoStats {
  const n = x.policyChosen.length;
  check(o, n, [x.policyRejected.length, x.refChosen.length, x.refRejected.length]);
  const eps = o.labelSmoothing ?? 0;
  const rewardsChosen = new Float64Array(n);
  const rewardsRejected = new Float64Array(n);
  let loss = 0;
  let right = 0;
  let margin = 0;
  for (let i = 0; i < n; i++) {
    const c = o.beta * (x.policyChosen[i]! - x.refChosen[i]!);
    const r = o.beta * (x.policyRejected[i]! - x.refRejected[i]!);
    rewardsChosen[i] = c;
    rewardsRejected[i] = r;
    const z = c - r;
    loss += (1 - eps) * negLogSigmoid(z) + (eps > 0 ? eps * negLogSigmoid(-z) : 0);
    if (c > r) right++;
    margin += z;
  }
  return { loss: loss / n, rewardsChosen, rewardsRejected, rewardAccuracy: right / n, rewardMargin: margin / n };
}
