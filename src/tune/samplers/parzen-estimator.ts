// One parameter's Parzen estimator, as Optuna 3.1's independent TPE builds it: a weighted mixture
// of truncated normals (or, for a categorical, of smoothed one-hot rows), one component per
// observation plus a prior component spanning the whole range.
//
// Numbers live in an internal space: the log of the value for log scales; ints are discretised by
// integrating each component over [x - step/2, x + step/2]. Continuous densities follow 3.1.0
// exactly, without the -log(sigma) term (see truncLogPdf).
import type { Rng } from '../../runtime/rng.ts';
import type { Distribution } from '../types.ts';
import { roundHalfEven } from '../trial-rng.ts';
import { intStep } from './random.ts';
import { logGaussMass, ppf, truncLogPdf } from './truncnorm.ts';

const EPS = 1e-12;

export interface ParzenOptions {
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  /** weights of n observations in trial order (oldest first) */
  weights: (n: number) => number[];
}

export interface ParzenEstimator {
  /** `n` draws, in the param's internal representation (categorical: choice index) */
  sample(rng: Rng, n: number): number[];
  /** the log density (log mass for discrete params) of each internal value */
  logPdf(xs: readonly number[]): number[];
}

function mixtureWeights(n: number, opts: ParzenOptions): number[] {
  const w = opts.weights(n).slice(0, n);
  if (w.length !== n || w.some((x) => !(x >= 0) || !Number.isFinite(x)) || (n > 0 && w.reduce((a, b) => a + b, 0) <= 0))
    throw new Error(`tpeSampler: weights(${n}) must return ${n} finite non-negative numbers, not all zero; got [${w}]`);
  w.push(opts.priorWeight);
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

/** Index of the component chosen by a uniform draw u from the normalised weights. */
function pick(weights: readonly number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]!;
    if (u < acc) return i;
  }
  return weights.length - 1;
}

function logSumExp(xs: readonly number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** The Parzen estimator of observations `obs` (internal values, trial order) of distribution `d`. */
export function parzenEstimator(obs: readonly number[], d: Distribution, opts: ParzenOptions): ParzenEstimator {
  const w = mixtureWeights(obs.length, opts);
  const logW = w.map(Math.log);
  if (d.type === 'categorical') return categoricalEstimator(obs, d.choices.length, w, opts.priorWeight);
  return numericalEstimator(obs, d, w, logW, opts);
}

function categoricalEstimator(
  obs: readonly number[],
  nChoices: number,
  w: readonly number[],
  priorWeight: number,
): ParzenEstimator {
  // row k: prior_weight/(n+1) on every choice, +1 on observation k's choice, normalised
  const n = obs.length;
  const rows = Array.from({ length: n + 1 }, (_, k) => {
    const row = new Array<number>(nChoices).fill(priorWeight / (n + 1));
    if (k < n) row[obs[k]!]! += 1;
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((x) => x / s);
  });
  // the mixture's probability of each choice
  const mix = new Array<number>(nChoices).fill(0);
  for (let k = 0; k <= n; k++) for (let c = 0; c < nChoices; c++) mix[c]! += w[k]! * rows[k]![c]!;
  return {
    sample: (rng, size) => Array.from({ length: size }, () => pick(rows[pick(w, rng.next())]!, rng.next())),
    logPdf: (xs) => xs.map((c) => Math.log(mix[c]!)),
  };
}

function numericalEstimator(
  obs: readonly number[],
  d: Exclude<Distribution, { type: 'categorical' }>,
  w: readonly number[],
  logW: readonly number[],
  opts: ParzenOptions,
): ParzenEstimator {
  const isLog = d.type === 'log-uniform' || (d.type === 'int' && d.log === true);
  const q = d.type === 'int' && !d.log ? intStep(d) : undefined;
  const low =
    d.type === 'int' ? (d.log ? Math.log(d.low - 0.5) : d.low - 0.5 * (q ?? 1)) : isLog ? Math.log(d.low) : d.low;
  const high =
    d.type === 'int' ? (d.log ? Math.log(d.high + 0.5) : d.high + 0.5 * (q ?? 1)) : isLog ? Math.log(d.high) : d.high;
  const toInternal = (x: number) => (isLog ? Math.log(x) : x);

  const n = obs.length;
  const mus = [...obs.map(toInternal), 0.5 * (low + high)];
  const sigmas = bandwidths(mus.slice(0, n), low, high, opts);
  sigmas.push(high - low); // the prior's
  const as = mus.map((m, k) => (low - m) / sigmas[k]!);
  const bs = mus.map((m, k) => (high - m) / sigmas[k]!);
  const logMass = as.map((a, k) => logGaussMass(a, bs[k]!));

  const fromInternal = (x: number): number => {
    if (d.type !== 'int') return isLog ? Math.exp(x) : x;
    const v = d.log ? roundHalfEven(Math.exp(x)) : roundHalfEven((x - d.low) / (q ?? 1)) * (q ?? 1) + d.low;
    return Math.min(Math.max(v, d.low), d.high);
  };

  return {
    sample(rng, size) {
      const out: number[] = [];
      for (let i = 0; i < size; i++) {
        const k = pick(w, rng.next());
        const z = ppf(rng.next(), as[k]!, bs[k]!);
        out.push(fromInternal(Math.min(Math.max(z * sigmas[k]! + mus[k]!, low), high)));
      }
      return out;
    },
    logPdf(xs) {
      const terms = new Array<number>(mus.length);
      return xs.map((v) => {
        const x = toInternal(v);
        for (let k = 0; k < mus.length; k++) {
          let lp: number;
          if (q === undefined) lp = truncLogPdf(x, mus[k]!, sigmas[k]!, as[k]!, bs[k]!, logMass[k]!);
          else {
            const lo = (Math.max(x - q / 2, low) - mus[k]!) / sigmas[k]!;
            const hi = (Math.min(x + q / 2, high) - mus[k]!) / sigmas[k]!;
            lp = logGaussMass(lo, hi) - logMass[k]!;
          }
          terms[k] = lp + logW[k]!;
        }
        return logSumExp(terms);
      });
    },
  };
}

/** Each observation's sigma: the larger gap to its sorted neighbours (the range ends count as
 * neighbours only with considerEndpoints), clipped to [range/min(100, n+2), range] by the magic clip. */
function bandwidths(xs: readonly number[], low: number, high: number, opts: ParzenOptions): number[] {
  // Optuna sorts the observations together with the prior's mean, so it sits among the neighbours
  const withPrior = [...xs, 0.5 * (low + high)];
  // a stable order: numpy's argsort leaves ties in an unspecified, CPU-dependent order (SIMD sorts),
  // which matters only with equal observations under unequal weights (more than 25 observations)
  const order = withPrior.map((_, i) => i).sort((i, j) => withPrior[i]! - withPrior[j]! || i - j);
  const sorted = [low, ...order.map((i) => withPrior[i]!), high];
  const m = withPrior.length;
  const s = new Array<number>(m);
  for (let i = 1; i <= m; i++) s[i - 1] = Math.max(sorted[i]! - sorted[i - 1]!, sorted[i + 1]! - sorted[i]!);
  if (!opts.considerEndpoints && sorted.length >= 4) {
    s[0] = sorted[2]! - sorted[1]!;
    s[m - 1] = sorted[m]! - sorted[m - 1]!;
  }
  const bySlot = new Array<number>(m);
  order.forEach((i, r) => {
    bySlot[i] = s[r]!;
  });
  const maxSigma = high - low;
  const minSigma = opts.considerMagicClip ? (high - low) / Math.min(100, 1 + m) : EPS;
  return bySlot.slice(0, xs.length).map((x) => Math.min(Math.max(x, minSigma), maxSigma));
}
