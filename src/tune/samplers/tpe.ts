// Optuna 3.1's independent TPE sampler (TPESampler with multivariate=False): until nStartupTrials
// trials are complete or pruned, params are drawn at random; after that each param is drawn on its
// own: the finished trials are ranked (complete ones by value, then pruned ones by the last step
// they reached, later first, then by their value there), the best gamma(n) form the "below" group
// and the rest the "above" group, a Parzen estimator l(x) is fitted to below and g(x) to above, and
// of nEiCandidates draws from l(x) the one maximising log l(x) - log g(x) is taken.
import type { Distribution, Direction, ParamValue, Sampler, SearchSpace, TrialRecord } from '../types.ts';
import { trialRng } from '../trial-rng.ts';
import { type ParzenOptions, parzenEstimator } from './parzen-estimator.ts';
import { sampleUniformly } from './random.ts';

export interface TpeOptions {
  seed: number;
  direction: Direction;
  /** trials drawn at random before TPE starts (complete and pruned trials count) */
  nStartupTrials?: number;
  /** candidates drawn from l(x) per param */
  nEiCandidates?: number;
  /** size of the "below" group given n finished trials; default min(ceil(0.1 n), 25) */
  gamma?: (n: number) => number;
  /** weights of n observations, oldest first; default 1s, with a ramp for all but the newest 25 */
  weights?: (n: number) => number[];
  priorWeight?: number;
  considerMagicClip?: boolean;
  considerEndpoints?: boolean;
}

export const defaultGamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

/** Optuna's default_weights: 1 for the newest 25 observations, a ramp from 1/n up to 1 before them. */
export function defaultWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const k = n - 25; // np.linspace(1/n, 1, num=k)
  const ramp = Array.from({ length: k }, (_, i) =>
    k === 1 ? 1 / n : i === k - 1 ? 1 : 1 / n + (i * (1 - 1 / n)) / (k - 1),
  );
  return [...ramp, ...new Array<number>(25).fill(1)];
}

/** A trial's rank key (Optuna's (-step, signed value)): complete trials first, by value; then pruned
 * ones, the furthest step first, by their value at that step (NaN last); null: not an observation. */
function rankKey(t: TrialRecord, sign: number): [number, number] | null {
  if (t.state === 'complete') {
    if (t.value === undefined || Number.isNaN(t.value)) return null;
    return [-Infinity, sign * t.value];
  }
  if (t.state !== 'pruned') return null;
  if (t.intermediate.size === 0) return [1, 0];
  let step = -Infinity;
  for (const s of t.intermediate.keys()) if (s > step) step = s;
  const v = t.intermediate.get(step) as number;
  return [-step, Number.isNaN(v) ? Infinity : sign * v];
}

/** A trial's param in the estimator's internal form (categorical: choice index), or undefined if
 * it is absent or outside the distribution (e.g. the space changed since the trial ran). */
function internal(v: ParamValue | undefined, d: Distribution): number | undefined {
  if (v === undefined) return undefined;
  if (d.type === 'categorical') {
    const i = d.choices.indexOf(v);
    return i < 0 ? undefined : i;
  }
  if (typeof v !== 'number' || !(v >= d.low && v <= d.high)) return undefined;
  return v;
}

/** TPE's two groups: the best gamma(n) of the n complete or pruned trials and the rest, each in
 * trial order; undefined while n < nStartup (TPE then samples at random). */
export function splitTrials(
  trials: readonly TrialRecord[],
  direction: Direction,
  gamma: (n: number) => number = defaultGamma,
  nStartup = 0,
): { below: TrialRecord[]; above: TrialRecord[] } | undefined {
  const sign = direction === 'maximize' ? -1 : 1;
  const observed = trials
    .map((t) => ({ t, key: rankKey(t, sign) }))
    .filter((o): o is { t: TrialRecord; key: [number, number] } => o.key !== null)
    .sort((x, y) => x.t.number - y.t.number);
  const n = observed.length;
  if (n < nStartup) return undefined;
  // stable sort by (step key, value): ties keep trial order, as numpy's stable argsort does
  const ranked = observed
    .map((_, i) => i)
    .sort((i, j) => {
      const a = observed[i]!.key;
      const b = observed[j]!.key;
      return a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] !== b[1] ? (a[1] < b[1] ? -1 : 1) : i - j;
    });
  const isBelow = new Array<boolean>(n).fill(false);
  for (const i of ranked.slice(0, gamma(n))) isBelow[i] = true;
  return {
    below: observed.filter((_, i) => isBelow[i]).map((o) => o.t),
    above: observed.filter((_, i) => !isBelow[i]).map((o) => o.t),
  };
}

/** The trials' values of param `name`, internal form, skipping trials without a usable value. */
function observations(trials: readonly TrialRecord[], name: string, d: Distribution): number[] {
  const out: number[] = [];
  for (const t of trials) {
    const x = internal(t.params[name], d);
    if (x !== undefined) out.push(x);
  }
  return out;
}

export function tpeSampler(opts: TpeOptions): Sampler {
  const { seed, direction } = opts;
  const nStartup = opts.nStartupTrials ?? 10;
  const nCandidates = opts.nEiCandidates ?? 24;
  const gamma = opts.gamma ?? defaultGamma;
  const parzen: ParzenOptions = {
    priorWeight: opts.priorWeight ?? 1,
    considerMagicClip: opts.considerMagicClip ?? true,
    considerEndpoints: opts.considerEndpoints ?? false,
    weights: opts.weights ?? defaultWeights,
  };
  if (!(Number.isInteger(nCandidates) && nCandidates >= 1))
    throw new RangeError(`tpeSampler: nEiCandidates must be an integer >= 1, got ${nCandidates}`);
  if (!(parzen.priorWeight > 0)) throw new RangeError(`tpeSampler: priorWeight must be > 0, got ${parzen.priorWeight}`);
  return {
    sample(space: SearchSpace, trials: readonly TrialRecord[], number: number) {
      const split = splitTrials(trials, direction, gamma, nStartup);
      const params: Record<string, ParamValue> = {};
      if (split === undefined) {
        for (const [name, d] of Object.entries(space)) params[name] = sampleUniformly(d, trialRng(seed, number, name));
        return params;
      }
      for (const [name, d] of Object.entries(space)) {
        const l = parzenEstimator(observations(split.below, name, d), d, parzen);
        const g = parzenEstimator(observations(split.above, name, d), d, parzen);
        const candidates = l.sample(trialRng(seed, number, `tpe:${name}`), nCandidates);
        const ll = l.logPdf(candidates);
        const lg = g.logPdf(candidates);
        let best = 0;
        for (let i = 1; i < candidates.length; i++) if (ll[i]! - lg[i]! > ll[best]! - lg[best]!) best = i;
        const x = candidates[best]!;
        params[name] = d.type === 'categorical' ? d.choices[x]! : x;
      }
      return params;
    },
  };
}
