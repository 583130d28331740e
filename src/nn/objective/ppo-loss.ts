// PPO's update objective (Schulman et al. 2017) as TRL's PPOTrainer.loss, over the response tokens of a
// rollout batch (mask 1 on real tokens; every mean is masked):
//   ratio = exp(logp - old_logp)
//   pg_loss = mean(max(-A ratio, -A clip(ratio, 1 - eps, 1 + eps)))        (the pessimistic term)
//   vf_loss = 0.5 mean(max((V - R)^2, (clip(V, V_old - eps_v, V_old + eps_v) - R)^2))
//   loss = pg_loss + vf_coef vf_loss
// Reports: clip fractions (where the clipped term is the larger), approx KL 0.5 mean((logp - old)^2),
// policy KL mean(old - logp), the mean ratio and the mean entropy.
import * as tf from '@tensorflow/tfjs';
import { maskedMean, type Floats } from './gae.ts';

export interface PpoLossOptions {
  /** policy clip range epsilon (TRL default 0.2) */
  cliprange: number;
  /** value clip range around the rollout's values (TRL default 0.2) */
  cliprangeValue: number;
  /** weight of the value loss (TRL default 0.1) */
  vfCoef: number;
}

/** Rollout quantities, row-major over the same positions as the mask. */
export interface PpoTargets {
  oldLogprobs: Floats;
  oldValues: Floats;
  /** whitened advantages (gae.ts) */
  advantages: Floats;
  returns: Floats;
  mask: Floats;
}

export interface PpoStats {
  loss: number;
  pgLoss: number;
  vfLoss: number;
  pgClipfrac: number;
  vfClipfrac: number;
  /** 0.5 mean((logp - old_logp)^2) */
  approxKl: number;
  /** mean(old_logp - logp) */
  policyKl: number;
  ratio: number;
  /** mean entropy, when given */
  entropy?: number;
}

function check(where: string, n: number, t: PpoTargets, o: PpoLossOptions): void {
  for (const [name, a] of Object.entries(t))
    if (a.length !== n) throw new Error(`${where}: ${name} has ${a.length} values but logprobs have ${n}`);
  if (!(o.cliprange > 0) || !(o.cliprangeValue > 0))
    throw new Error(`${where}: cliprange ${o.cliprange} and cliprangeValue ${o.cliprangeValue} must be > 0`);
}

const f32 = (a: Floats) => tf.tensor1d(Float32Array.from(a));

/** The PPO loss from the current policy's log-probs and value predictions (tf, any shape with the
 * targets' element count): differentiable in both. */
export function ppoLoss(
  logprobs: tf.Tensor,
  values: tf.Tensor,
  t: PpoTargets,
  o: PpoLossOptions,
): { loss: tf.Scalar; pgLoss: tf.Scalar; vfLoss: tf.Scalar } {
  check('ppoLoss', logprobs.size, t, o);
  if (values.size !== logprobs.size) throw new Error(`ppoLoss: ${values.size} values for ${logprobs.size} logprobs`);
  let m = 0;
  for (let i = 0; i < t.mask.length; i++) m += t.mask[i]!;
  if (m === 0) throw new Error('ppoLoss: the mask is all 0; there is no response token to train on');
  return tf.tidy(() => {
    const mask = f32(t.mask);
    const mean = (x: tf.Tensor) => tf.div(tf.sum(tf.mul(x, mask)), m) as tf.Scalar;
    const lp = logprobs.reshape([-1]);
    const v = values.reshape([-1]);
    const adv = f32(t.advantages);
    const oldV = f32(t.oldValues);
    const ret = f32(t.returns);
    const ratio = tf.exp(tf.sub(lp, f32(t.oldLogprobs)));
    const pg1 = tf.mul(tf.neg(adv), ratio);
    const pg2 = tf.mul(tf.neg(adv), tf.clipByValue(ratio, 1 - o.cliprange, 1 + o.cliprange));
    const pgLoss = mean(tf.maximum(pg1, pg2));
    const vClipped = tf.minimum(tf.maximum(v, tf.sub(oldV, o.cliprangeValue)), tf.add(oldV, o.cliprangeValue));
    const vf1 = tf.square(tf.sub(v, ret));
    const vf2 = tf.square(tf.sub(vClipped, ret));
    const vfLoss = tf.mul(mean(tf.maximum(vf1, vf2)), 0.5) as tf.Scalar;
    const loss = tf.add(pgLoss, tf.mul(vfLoss, o.vfCoef)) as tf.Scalar;
    return { loss, pgLoss, vfLoss };
  });
}

/** The same loss and its reports from numbers, in float64. */
export function ppoStats(
  logprobs: Floats,
  values: Floats,
  t: PpoTargets,
  o: PpoLossOptions,
  entropy?: Floats,
): PpoStats {
  const n = logprobs.length;
  check('ppoStats', n, t, o);
  if (values.length !== n) throw new Error(`ppoStats: ${values.length} values for ${n} logprobs`);
  const pg = new Float64Array(n);
  const pgClip = new Float64Array(n);
  const vf = new Float64Array(n);
  const vfClip = new Float64Array(n);
  const ratio = new Float64Array(n);
  const kl2 = new Float64Array(n);
  const kl = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const diff = logprobs[i]! - t.oldLogprobs[i]!;
    const r = Math.exp(diff);
    const a = t.advantages[i]!;
    const p1 = -a * r;
    const p2 = -a * Math.min(Math.max(r, 1 - o.cliprange), 1 + o.cliprange);
    pg[i] = Math.max(p1, p2);
    pgClip[i] = p2 > p1 ? 1 : 0;
    const old = t.oldValues[i]!;
    const vc = Math.min(Math.max(values[i]!, old - o.cliprangeValue), old + o.cliprangeValue);
    const v1 = (values[i]! - t.returns[i]!) ** 2;
    const v2 = (vc - t.returns[i]!) ** 2;
    vf[i] = Math.max(v1, v2);
    vfClip[i] = v2 > v1 ? 1 : 0;
    ratio[i] = r;
    kl2[i] = 0.5 * diff * diff;
    kl[i] = -diff;
  }
  const pgLoss = maskedMean(pg, t.mask);
  const vfLoss = 0.5 * maskedMean(vf, t.mask);
  return {
    loss: pgLoss + o.vfCoef * vfLoss,
    pgLoss,
    vfLoss,
    pgClipfrac: maskedMean(pgClip, t.mask),
    vfClipfrac: maskedMean(vfClip, t.mask),
    approxKl: maskedMean(kl2, t.mask),
    policyKl: maskedMean(kl, t.mask),
    ratio: maskedMean(ratio, t.mask),
    entropy: entropy ? maskedMean(entropy, t.mask) : undefined,
  };
}

/** Entropy of softmax(logits) per row, logsumexp(x) - sum(softmax(x) x): [n, V] -> [n] */
export function entropyFromLogits(logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const lse = tf.logSumExp(logits, 1);
    const p = tf.softmax(logits);
    return tf.sub(lse, tf.sum(tf.mul(p, logits), 1)) as tf.Tensor1D;
  });
}
