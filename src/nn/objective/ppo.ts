// PPO's reward shaping (InstructGPT; TRL's PPOTrainer.compute_rewards): each response token gets
// -kl_coef * kl_t, with kl_t an estimate of log pi(a|s) - log pi_ref(a|s), and the reward model's score
// is added at the row's last response token. The KL coefficient is fixed or adapted toward a target
// KL (Ziegler et al. 2019). GAE and whitening are in gae.ts, the clipped losses in ppo-loss.ts.
import type { Floats } from './gae.ts';

export { gae, maskedMean, maskedVar, maskedWhiten, type Gae, type GaeOptions } from './gae.ts';
export {
  entropyFromLogits,
  ppoLoss,
  ppoStats,
  type PpoLossOptions,
  type PpoStats,
  type PpoTargets,
} from './ppo-loss.ts';

/** How the per-token KL is estimated from d = logp - ref_logp: 'kl' d (TRL's default), 'abs' |d|,
 * 'mse' d^2 / 2 (non-negative; Schulman's k2). */
export type KlPenalty = 'kl' | 'abs' | 'mse';

export function klEstimate(logp: number, refLogp: number, kind: KlPenalty): number {
  const d = logp - refLogp;
  if (kind === 'kl') return d;
  if (kind === 'abs') return Math.abs(d);
  return 0.5 * d * d;
}

export interface PpoRewards {
  /** per-token reward: -klCoef kl_t, plus the score at the last response token; 0 off the mask */
  rewards: Float64Array;
  /** -klCoef kl_t on the mask */
  nonScore: Float64Array;
  /** kl_t on the mask */
  kl: Float64Array;
}

/** Per-token rewards for rows [batch, T] of response tokens (mask 1 on real tokens), one score per row. */
export function ppoRewards(
  scores: Floats,
  logprobs: Floats,
  refLogprobs: Floats,
  mask: Floats,
  batch: number,
  t: number,
  klCoef: number,
  kind: KlPenalty = 'kl',
): PpoRewards {
  if (scores.length !== batch) throw new Error(`ppoRewards: ${scores.length} scores for ${batch} rows`);
  for (const [name, a] of Object.entries({ logprobs, refLogprobs, mask }))
    if (a.length !== batch * t) throw new Error(`ppoRewards: ${name} has ${a.length} values, expected ${batch} x ${t}`);
  const rewards = new Float64Array(batch * t);
  const nonScore = new Float64Array(batch * t);
  const kl = new Float64Array(batch * t);
  for (let b = 0; b < batch; b++) {
    let last = -1;
    for (let s = 0; s < t; s++) {
      const i = b * t + s;
      if (!mask[i]) continue;
      kl[i] = klEstimate(logprobs[i]!, refLogprobs[i]!, kind);
      nonScore[i] = -klCoef * kl[i]!;
      rewards[i] = nonScore[i]!;
      last = s;
    }
    if (last < 0) throw new Error(`ppoRewards: row ${b} has no response token (its mask is all 0)`);
    rewards[b * t + last] = rewards[b * t + last]! + scores[b]!;
  }
  return { rewards, nonScore, kl };
}

/** Mean over rows of each row's summed per-token KL: the "objective/kl" PPO reports and targets. */
export function sequenceKl(kl: Floats, batch: number, t: number): number {
  let s = 0;
  for (let i = 0; i < batch * t; i++) s += kl[i]!;
  return s / batch;
}

export interface KlControllerState {
  value: number;
}

/** The KL coefficient: fixed, or adaptive with target and horizon: after each batch of n rollouts with
 * measured KL k, value *= 1 + clip(k / target - 1, -0.2, 0.2) n / horizon. */
export class KlController {
  value: number;
  constructor(
    init: number,
    readonly adaptive?: { target: number; horizon: number },
  ) {
    if (!(init >= 0)) throw new Error(`KlController: initial coefficient ${init} must be >= 0`);
    if (adaptive && !(adaptive.target > 0 && adaptive.horizon > 0))
      throw new Error(`KlController: target ${adaptive.target} and horizon ${adaptive.horizon} must be > 0`);
    this.value = init;
  }

  update(currentKl: number, nSteps: number): number {
    if (this.adaptive) {
      const err = Math.min(Math.max(currentKl / this.adaptive.target - 1, -0.2), 0.2);
      this.value *= 1 + (err * nSteps) / this.adaptive.horizon;
    }
    return this.value;
  }

  state(): KlControllerState {
    return { value: this.value };
  }

  restore(s: KlControllerState): void {
    this.value = s.value;
  }
}
