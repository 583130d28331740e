// Optuna's MedianPruner, i.e. its PercentilePruner at the 50th percentile: once nStartupTrials
// trials are complete, a trial past nWarmupSteps is pruned at the first report of each interval
// if its best value so far (NaNs ignored; all NaN: pruned) is worse than the percentile of the
// complete trials' values at that same step (NaNs ignored; fewer than nMinTrials values, or only
// NaNs: not pruned).
import type { Direction, Pruner, TrialRecord } from '../types.ts';

export interface PercentileOptions {
  direction: Direction;
  nStartupTrials?: number;
  nWarmupSteps?: number;
  intervalSteps?: number;
  nMinTrials?: number;
}

/** The last (largest) step a trial reported, as Optuna's FrozenTrial.last_step. */
export function lastStep(t: TrialRecord): number | undefined {
  let last: number | undefined;
  for (const s of t.intermediate.keys()) if (last === undefined || s > last) last = s;
  return last;
}

/** numpy.nanpercentile with linear interpolation; NaN when no value is a number. */
export function nanPercentile(values: readonly number[], p: number): number {
  const xs = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (xs.length === 0) return Number.NaN;
  const pos = (p / 100) * (xs.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, xs.length - 1);
  const frac = pos - lo;
  // numpy's _lerp: a + (b - a) * t, from the other end when t >= 0.5 so the ends are exact
  const a = xs[lo]!;
  const b = xs[hi]!;
  return frac >= 0.5 ? b - (b - a) * (1 - frac) : a + (b - a) * frac;
}

/** Is `step` the trial's first report at or after the latest pruning checkpoint
 * (nWarmupSteps + k * intervalSteps)? Reports in between are not checked. */
function firstInInterval(step: number, steps: Iterable<number>, warmup: number, interval: number): boolean {
  const checkpoint = Math.floor((step - warmup) / interval) * interval + warmup;
  let secondLast = -1;
  for (const s of steps) if (s > secondLast && s !== step) secondLast = s;
  return secondLast < checkpoint;
}

function nonNegativeInt(name: string, v: number, min = 0): number {
  if (!(Number.isInteger(v) && v >= min))
    throw new RangeError(`pruner: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

export function percentilePruner(percentile: number, opts: PercentileOptions): Pruner {
  if (!(percentile >= 0 && percentile <= 100))
    throw new RangeError(`percentilePruner: percentile must be in [0, 100], got ${percentile}`);
  const nStartup = nonNegativeInt('nStartupTrials', opts.nStartupTrials ?? 5);
  const warmup = nonNegativeInt('nWarmupSteps', opts.nWarmupSteps ?? 0);
  const interval = nonNegativeInt('intervalSteps', opts.intervalSteps ?? 1, 1);
  const nMin = nonNegativeInt('nMinTrials', opts.nMinTrials ?? 1, 1);
  const maximize = opts.direction === 'maximize';

  return {
    shouldPrune(trial, _step, trials) {
      const complete = trials.filter((t) => t.state === 'complete' && t.number !== trial.number);
      if (complete.length === 0 || complete.length < nStartup) return false;
      // Optuna judges the trial at its last step, whichever step was just reported
      const step = lastStep(trial);
      if (step === undefined || step < warmup) return false;
      if (!firstInInterval(step, trial.intermediate.keys(), warmup, interval)) return false;

      const own = [...trial.intermediate.values()].filter((v) => !Number.isNaN(v));
      if (own.length === 0) return true; // every report NaN
      const best = maximize ? Math.max(...own) : Math.min(...own);

      const atStep: number[] = [];
      for (const t of complete) {
        const v = t.intermediate.get(step);
        if (v !== undefined) atStep.push(v);
      }
      if (atStep.length < nMin) return false;
      const p = nanPercentile(atStep, maximize ? 100 - percentile : percentile);
      if (Number.isNaN(p)) return false;
      return maximize ? best < p : best > p;
    },
  };
}

export interface MedianOptions extends PercentileOptions {}

/** Prune a trial whose best value so far is worse than the median of complete trials at the same step. */
export function medianPruner(opts: MedianOptions): Pruner {
  return percentilePruner(50, opts);
}
