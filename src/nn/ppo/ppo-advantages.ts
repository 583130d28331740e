// An iteration's advantages from its rollouts (TRL's PPOTrainer.compute_rewards then
// compute_advantages): per-token rewards -klCoef * kl_t with the score added at each row's last
// response token (ppoRewards), GAE over them with the rollout's values, whitened over the whole
// iteration's tokens. Rows are per-response arrays; the [batch, T] layout is internal. Data parallel:
// each rank holds its share of the rollouts; the whitening mean and variance and the mean KL are over
// the whole iteration (sums over ranks, ppo-dist.ts), so world W gives world 1's numbers.
import type { Collective } from '../../runtime/collectives/collective.ts';
import { gae } from '../objective/gae.ts';
import { ppoRewards, type KlPenalty } from '../objective/ppo.ts';
import { soloDist, sumOverRanks } from './ppo-dist.ts';
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

/** sum(x m) and sum(m), in index order (as maskedMean adds them) */
function maskedSums(x: ArrayLike<number>, mask: ArrayLike<number>): [number, number] {
  let s = 0;
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    s += x[i]! * mask[i]!;
    m += mask[i]!;
  }
  return [s, m];
}

/** gae.ts maskedWhiten (unbiased variance, shifted mean) with the mean and variance over every rank's
 * tokens. */
export async function whitenOverRanks(x: Float64Array, mask: ArrayLike<number>, c: Collective): Promise<Float64Array> {
  const [s, n] = await sumOverRanks(c, maskedSums(x, mask));
  if (n! <= 1)
    throw new Error(
      `ppoAdvantages: the iteration has ${n} response tokens; whitening needs at least 2 (or whiten: false)`,
    );
  const mean = s! / n!;
  const [sq] = await sumOverRanks(
    c,
    maskedSums(
      Float64Array.from(x, (v) => (v - mean) ** 2),
      mask,
    ),
  );
  const variance = ((sq! / n!) * n!) / (n! - 1);
  const scale = 1 / Math.sqrt(variance + 1e-8);
  return Float64Array.from(x, (v) => (v - mean) * scale);
}

/** `batchSize`: the iteration's rollouts over all ranks (this rank's rows are a share of them). */
export async function ppoAdvantages(
  r: AdvantageRows,
  o: AdvantageOptions,
  dist: { collective: Collective; batchSize: number } = {
    collective: soloDist().collective,
    batchSize: r.scores.length,
  },
): Promise<Advantages> {
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
  const g = gae(shaped.rewards, values, mask, batch, t, { gamma: o.gamma, lambda: o.lambda, whiten: false });
  const advantages = o.whiten ? await whitenOverRanks(g.advantages, mask, dist.collective) : g.advantages;
  const rows = (a: Float64Array) => lens.map((n, b) => rowOf(a, b, t, n) as Float64Array);
  // sequenceKl: the summed KL over the rollouts, per rollout
  let klSum = 0;
  for (let i = 0; i < batch * t; i++) klSum += shaped.kl[i]!;
  const [allKl] = await sumOverRanks(dist.collective, [klSum]);
  return {
    rewards: rows(shaped.rewards),
    advantages: rows(advantages),
    returns: rows(g.returns),
    kl: rows(shaped.kl),
    meanKl: allKl! / dist.batchSize,
  };
}
