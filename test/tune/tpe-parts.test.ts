// The deterministic parts of TPE against Optuna 3.1.0 (golden/tpe-parts.json): the truncated
// normal's log cdf, log mass and quantile; the Parzen estimator's log density for every kind of
// distribution, observation count and option; and which trials form the "below" group.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parzenEstimator } from '../../src/tune/samplers/parzen-estimator.ts';
import { defaultWeights, splitTrials } from '../../src/tune/samplers/tpe.ts';
import { logGaussMass, logNdtr, ppf } from '../../src/tune/samplers/truncnorm.ts';
import type { Direction, Distribution, TrialRecord, TrialState } from '../../src/tune/types.ts';

interface Golden {
  truncnorm: {
    logNdtr: [number, number][];
    logGaussMass: [number, number, number][];
    ppf: [number, number, number, number][];
  };
  parzen: {
    distribution: Distribution;
    options: { priorWeight: number; considerMagicClip: boolean; considerEndpoints: boolean };
    observations: number[];
    points: number[];
    logPdf: number[];
  }[];
  split: {
    direction: Direction;
    nBelow: number;
    trials: {
      number: number;
      state: TrialState;
      value: number | null;
      x: number;
      intermediate: [number, number | null][];
    }[];
    below: number[];
  }[];
}
const golden = JSON.parse(readFileSync(new URL('golden/tpe-parts.json', import.meta.url), 'utf8')) as Golden;

/** |got - want| within `rel` of |want| (or of 1 near zero). */
function close(got: number, want: number, rel: number): void {
  if (!Number.isFinite(want)) expect(got).toBe(want);
  else expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));
}

describe('truncated normal matches Optuna _truncnorm', () => {
  it('log Phi, both tails', () => {
    for (const [x, want] of golden.truncnorm.logNdtr) close(logNdtr(x), want, 1e-14);
  });
  it('log mass of [a, b], left, central and right intervals', () => {
    for (const [a, b, want] of golden.truncnorm.logGaussMass) close(logGaussMass(a, b), want, 1e-13);
  });
  it('quantiles, including intervals 25 to 40 sigmas out', () => {
    for (const [q, a, b, want] of golden.truncnorm.ppf) close(ppf(q, a, b), want, 1e-12);
  });
});

describe('Parzen estimator log density matches Optuna _ParzenEstimator', () => {
  for (const c of golden.parzen) {
    const o = c.options;
    it(`${c.distribution.type} ${JSON.stringify(c.distribution).slice(0, 60)}, ${c.observations.length} obs, prior ${o.priorWeight}, clip ${o.considerMagicClip}, endpoints ${o.considerEndpoints}`, () => {
      const pe = parzenEstimator(c.observations, c.distribution, { ...o, weights: defaultWeights });
      const got = pe.logPdf(c.points);
      c.logPdf.forEach((want, i) => close(got[i]!, want, 1e-10));
    });
  }
});

describe('TPE below/above split matches Optuna', () => {
  for (const c of golden.split)
    it(`${c.direction}, ${c.nBelow} below, complete/pruned/NaN/failed trials`, () => {
      const trials: TrialRecord[] = c.trials.map((t) => ({
        number: t.number,
        params: { x: t.x },
        state: t.state,
        ...(t.value === null ? {} : { value: t.value }),
        intermediate: new Map(t.intermediate.map(([s, v]) => [s, v ?? Number.NaN])),
      }));
      const split = splitTrials(trials, c.direction, () => c.nBelow);
      expect(split?.below.map((t) => t.number)).toEqual(c.below);
      expect(split?.above.length).toBe(trials.filter((t) => t.state !== 'failed').length - c.nBelow);
    });
});
