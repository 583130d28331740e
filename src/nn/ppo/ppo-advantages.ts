// An iteration's advantages from its rollouts (TRL's PPOTrainer.compute_rewards then
// compute_advantages): per-token rewards -klCoef * kl_t with the score added at each row's last
// response token (ppoRewards), GAE over them with the rollout's values, whitened over the whole
// iteration's tokens. Rows are per-response arrays; the [batch, T] layout is internal.
import { gae, ppoRewards, sequenceKl, type KlPenalty } from '../objective/ppo.ts';
import { padRows, rowOf } from './ppo-rollout.ts';

export interface AdvantageRows {
  scores: ArrayLike<number>;
  logprobs: readonly ArrayLike<number>[];
  refLogprobs: readonly ArrayLike<number>[];
  values: readonly ArrayLike<number>[];
}

export interface AdvantageOptions {
  klCoef: number;
  klPenalty: KlPenalty;
  gamma: number;
  lambda: number;
  whiten: boolean;
}

export interface Advantages {
  rewards: Float64Array[];
  advantages: Float64Array[];
  returns: Float64Array[];
  kl: Float64Array[];
  /** mean over rows of the summed per-token KL (what an adaptive coefficient is steered by) */
  meanKl: number;
}

export function ppoAdvantages(r: AdvantageRows, o: AdvantageOptions): Advantages {
  const batch = r.logprobs.length;
  const lens = r.logprobs.map((x, b) => {
    if (r.refLogprobs[b]?.length !== x.length || r.values[b]?.length !== x.length)
      throw new Error(
        `ppoAdvantages: row ${b} has ${x.length} log-probs, ${r.refLogprobs[b]?.length} reference log-probs and ` +
          `${r.values[b]?.length} values; they must match`,
      );
    return x.length;
  });
  const t = Math.max(...lens);
  const mask = padRows(
    lens.map((n) => new Float64Array(n).fill(1)),
    t,
  );
  const lp = padRows(r.logprobs, t);
  const ref = padRows(r.refLogprobs, t);
  const values = padRows(r.values, t);
  const shaped = ppoRewards(r.scores, lp, ref, mask, batch, t, o.klCoef, o.klPenalty);
  const g = gae(shaped.rewards, values, mask, batch, t, { gamma: o.gamma, lambda: o.lambda, whiten: o.whiten });
  const rows = (a: Float64Array) => lens.map((n, b) => rowOf(a, b, t, n) as Float64Array);
  return {
    rewards: rows(shaped.rewards),
    advantages: rows(g.advantages),
    returns: rows(g.returns),
    kl: rows(shaped.kl),
    meanKl: sequenceKl(shaped.kl, batch, t),
  };
}
