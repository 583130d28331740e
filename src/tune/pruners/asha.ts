// Optuna's SuccessiveHalvingPruner (asynchronous successive halving, ASHA). Rung r is reached at
// step minResource * reductionFactor^(minEarlyStoppingRate + r); when a trial reaches it, its
// value there joins that rung's values and the trial goes on only if it is in the top
// 1/reductionFactor of them (for the first few trials: if it is the best so far).
//
// Optuna records a trial's rung values as trial attributes, written by the pruner during the
// trial; a trial record here has only its reported values, so the rung values are recomputed by
// replaying each trial's reports as Optuna would have seen them: trials in number order, each
// competing with the rungs of the trials before it. That is exactly Optuna's record when trials
// run one after another, the case the golden fixtures check; with trials in parallel a trial's
// competitors are also the trials numbered below it, a close approximation.
//
// minResource 'auto' is Optuna's estimate: 1% of the last step of the trials complete when the
// first check after a completion happens (at least 1); before that no trial records a rung.
import type { Direction, Pruner, TrialRecord } from '../types.ts';
import { lastStep } from './median.ts';

export interface AshaOptions {
  direction: Direction;
  minResource?: number | 'auto';
  reductionFactor?: number;
  minEarlyStoppingRate?: number;
  bootstrapCount?: number;
}

interface Replay {
  /** the value recorded at each rung the trial reached */
  rungs: number[];
  /** the decision of the check after the last report */
  prune: boolean;
}

export function ashaPruner(opts: AshaOptions): Pruner {
  const minResource = opts.minResource ?? 'auto';
  const rf = opts.reductionFactor ?? 4;
  const mesr = opts.minEarlyStoppingRate ?? 0;
  const bootstrap = opts.bootstrapCount ?? 0;
  if (minResource !== 'auto' && !(Number.isInteger(minResource) && minResource >= 1))
    throw new RangeError(`ashaPruner: minResource must be an integer >= 1 or 'auto', got ${minResource}`);
  if (!(Number.isInteger(rf) && rf >= 2))
    throw new RangeError(`ashaPruner: reductionFactor must be an integer >= 2, got ${rf}`);
  if (!(Number.isInteger(mesr) && mesr >= 0))
    throw new RangeError(`ashaPruner: minEarlyStoppingRate must be an integer >= 0, got ${mesr}`);
  if (!(Number.isInteger(bootstrap) && bootstrap >= 0))
    throw new RangeError(`ashaPruner: bootstrapCount must be an integer >= 0, got ${bootstrap}`);
  if (bootstrap > 0 && minResource === 'auto')
    throw new RangeError("ashaPruner: bootstrapCount > 0 needs a numeric minResource (Optuna refuses it with 'auto')");
  const sign = opts.direction === 'maximize' ? -1 : 1;

  /** Is `value` among the best 1/rf of `competing` (which includes it)? */
  const promotable = (value: number, competing: number[]): boolean => {
    let idx = Math.floor(competing.length / rf) - 1;
    if (idx === -1) idx = 0; // the first rf - 1 trials: promoted only if best so far
    // sorted best first, so one comparison serves both directions
    const sorted = competing.map((v) => sign * v).sort((a, b) => a - b);
    return sign * value <= sorted[idx]!;
  };

  /** Optuna's checks after each of `t`'s reports, with minimum resource `m` (undefined: not known
   * yet, so nothing is recorded) and the rung values of the competing trials. */
  const replay = (t: TrialRecord, m: number | undefined, others: readonly (readonly number[])[]): Replay => {
    const rungs: number[] = [];
    let prune = false;
    let last = -Infinity;
    for (const s of t.intermediate.keys()) {
      if (s > last) last = s;
      prune = false;
      if (m === undefined) continue;
      const value = t.intermediate.get(last)!;
      for (;;) {
        if (last < m * rf ** (mesr + rungs.length)) break;
        if (Number.isNaN(value)) {
          prune = true;
          break;
        }
        const r = rungs.length;
        rungs.push(value);
        const competing = [value];
        for (const o of others) if (o.length > r) competing.push(o[r]!);
        if (competing.length <= bootstrap || !promotable(value, competing)) {
          prune = true;
          break;
        }
      }
    }
    return { rungs, prune };
  };

  // rung values of trials other than the one being checked, kept while their reports are unchanged
  // (one pruner serves one study: entries are keyed by trial number)
  const memo = new Map<number, { size: number; last: number | undefined; m: number | undefined; rungs: number[] }>();

  return {
    shouldPrune(trial, _step, trials) {
      if (lastStep(trial) === undefined) return false;
      const sorted = [...trials].filter((t) => t.number !== trial.number).sort((a, b) => a.number - b.number);
      // the trials before the first check that knew the minimum resource record no rung
      let m: number | undefined;
      let firstRecording = 0;
      if (minResource === 'auto') {
        const first = sorted.find((t) => t.state === 'complete');
        if (first === undefined) return false;
        const after = [...sorted, trial]
          .filter((t) => t.number > first.number && t.intermediate.size > 0)
          .sort((a, b) => a.number - b.number)[0];
        firstRecording = after?.number ?? trial.number;
        let longest = -Infinity;
        for (const t of sorted)
          if (t.state === 'complete' && t.number < firstRecording)
            longest = Math.max(longest, lastStep(t) ?? -Infinity);
        m = Math.max(Math.floor(longest / 100), 1);
      } else m = minResource;

      const history: number[][] = [];
      for (const t of sorted) {
        const mt = t.number >= firstRecording ? m : undefined;
        let cached = memo.get(t.number);
        const last = lastStep(t);
        if (cached === undefined || cached.size !== t.intermediate.size || cached.last !== last || cached.m !== mt) {
          cached = { size: t.intermediate.size, last, m: mt, rungs: replay(t, mt, history).rungs };
          memo.set(t.number, cached);
        }
        history.push(cached.rungs);
      }
      return replay(trial, m, history).prune;
    },
  };
}
