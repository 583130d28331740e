// MedianPruner and SuccessiveHalvingPruner against Optuna 3.1.0: fixed learning curves (NaN reports,
// a trial ending on NaN, trials reporting only some steps) are fed to a study trial after trial, and
// the pruner's decision after every report must equal Optuna's (test/tune/golden/make_goldens.py).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ashaPruner } from '../../src/tune/pruners/asha.ts';
import { medianPruner, nanPercentile } from '../../src/tune/pruners/median.ts';
import type { Direction, Pruner, TrialRecord, TrialState } from '../../src/tune/types.ts';

interface Case {
  name: string;
  options: Record<string, number>;
  direction: Direction;
  curves: [number, number | null][][];
  decisions: boolean[][];
  states: string[];
}

const golden = (file: string): Case[] =>
  JSON.parse(readFileSync(new URL(`golden/${file}`, import.meta.url), 'utf8')).cases as Case[];

/** Runs the curves as Optuna's study did: report, ask the pruner, stop when pruned; a trial that is
 * not pruned completes with its last value, or fails if that is NaN. */
function replay(pruner: Pruner, curves: Case['curves']): { decisions: boolean[][]; states: TrialState[] } {
  const trials: TrialRecord[] = [];
  const decisions: boolean[][] = [];
  for (const [number, reports] of curves.entries()) {
    const intermediate = new Map<number, number>();
    const trial: TrialRecord = { number, params: {}, state: 'running', intermediate };
    trials.push(trial);
    const ds: boolean[] = [];
    for (const [step, v] of reports) {
      intermediate.set(step, v ?? Number.NaN);
      const prune = pruner.shouldPrune(trial, step, trials);
      ds.push(prune);
      if (prune) break;
    }
    decisions.push(ds);
    const last = reports.at(-1)?.[1] ?? Number.NaN;
    if (ds.at(-1) === true) trial.state = 'pruned';
    else if (Number.isNaN(last)) trial.state = 'failed';
    else {
      trial.state = 'complete';
      trial.value = last;
    }
  }
  return { decisions, states: trials.map((t) => t.state) };
}

const camel = (o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()), v]));

describe('medianPruner matches Optuna 3.1 MedianPruner', () => {
  for (const c of golden('median-pruner.json'))
    it(c.name, () => {
      const got = replay(medianPruner({ direction: c.direction, ...camel(c.options) }), c.curves);
      expect(got.decisions).toEqual(c.decisions);
      expect(got.states).toEqual(c.states);
    });

  it('covers pruned, complete and failed trials and both directions', () => {
    const cases = golden('median-pruner.json');
    const states = new Set(cases.flatMap((c) => c.states));
    expect([...states].sort()).toEqual(['complete', 'failed', 'pruned']);
    expect(new Set(cases.map((c) => c.direction))).toEqual(new Set(['minimize', 'maximize']));
  });
});

describe('ashaPruner matches Optuna 3.1 SuccessiveHalvingPruner', () => {
  for (const c of golden('asha-pruner.json'))
    it(c.name, () => {
      const opts = camel(c.options);
      const got = replay(ashaPruner({ direction: c.direction, ...opts }), c.curves);
      expect(got.decisions).toEqual(c.decisions);
      expect(got.states).toEqual(c.states);
    });
});

describe('nanPercentile', () => {
  it('interpolates linearly between order statistics and ignores NaN, as numpy.nanpercentile', () => {
    // values from numpy 1.24: np.nanpercentile([3, nan, 1, 4, 1.5], [0, 25, 50, 90, 100])
    const xs = [3, Number.NaN, 1, 4, 1.5];
    expect([0, 25, 50, 90, 100].map((p) => nanPercentile(xs, p))).toEqual([1, 1.375, 2.25, 3.7, 4]);
    expect(nanPercentile([Number.NaN], 50)).toBeNaN();
  });
});
