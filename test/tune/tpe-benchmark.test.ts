// TPE against random search on Branin (2-d) and Hartmann6 (6-d) at Optuna's budget and seeds, and
// against Optuna 3.1.0's TPESampler: over 20 seeds our TPE's median best value must beat our random
// search's median and lie within the range of Optuna's TPE best values (golden/tpe-benchmark.json).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomSampler } from '../../src/tune/samplers/random.ts';
import { tpeSampler } from '../../src/tune/samplers/tpe.ts';
import type { Sampler, SearchSpace, TrialRecord } from '../../src/tune/types.ts';

interface Golden {
  optuna: string;
  seeds: number;
  problems: Record<string, { budget: number; tpe: number[]; random: number[] }>;
}
const golden = JSON.parse(readFileSync(new URL('golden/tpe-benchmark.json', import.meta.url), 'utf8')) as Golden;

function branin(p: Record<string, unknown>): number {
  const x = p.x as number;
  const y = p.y as number;
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * Math.cos(x) + 10;
}

const H_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((r) => r.map((v) => v * 1e-4));
const H_ALPHA = [1, 1.2, 3, 3.2];

function hartmann6(p: Record<string, unknown>): number {
  let f = 0;
  for (let i = 0; i < 4; i++) {
    let s = 0;
    for (let j = 0; j < 6; j++) s += H_A[i]![j]! * ((p[`x${j}`] as number) - H_P[i]![j]!) ** 2;
    f -= H_ALPHA[i]! * Math.exp(-s);
  }
  return f;
}

const problems: Record<string, { space: SearchSpace; f: (p: Record<string, unknown>) => number }> = {
  branin: {
    space: { x: { type: 'uniform', low: -5, high: 10 }, y: { type: 'uniform', low: 0, high: 15 } },
    f: branin,
  },
  hartmann6: {
    space: Object.fromEntries([0, 1, 2, 3, 4, 5].map((j) => [`x${j}`, { type: 'uniform', low: 0, high: 1 }])),
    f: hartmann6,
  },
};

/** The best value after `budget` sequential trials. */
function bestOf(sampler: Sampler, space: SearchSpace, f: (p: Record<string, unknown>) => number, budget: number) {
  const trials: TrialRecord[] = [];
  let best = Number.POSITIVE_INFINITY;
  for (let n = 0; n < budget; n++) {
    const params = sampler.sample(space, trials, n);
    const value = f(params);
    best = Math.min(best, value);
    trials.push({ number: n, params, state: 'complete', value, intermediate: new Map() });
  }
  return best;
}

/** numpy.percentile (linear) of a few values. */
function q(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (p / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}
const summary = (xs: readonly number[]) =>
  `min ${q(xs, 0).toFixed(4)}  q1 ${q(xs, 25).toFixed(4)}  median ${q(xs, 50).toFixed(4)}  q3 ${q(xs, 75).toFixed(4)}  max ${q(xs, 100).toFixed(4)}`;

describe(`TPE on benchmarks, against random search and Optuna ${golden.optuna}`, () => {
  for (const [name, g] of Object.entries(golden.problems))
    it(`${name}, ${g.budget} trials, ${golden.seeds} seeds`, () => {
      const { space, f } = problems[name]!;
      const seeds = Array.from({ length: golden.seeds }, (_, s) => s);
      const tpe = seeds.map((seed) => bestOf(tpeSampler({ seed, direction: 'minimize' }), space, f, g.budget));
      const random = seeds.map((seed) => bestOf(randomSampler({ seed }), space, f, g.budget));
      console.log(
        `${name} (${g.budget} trials, best value over ${golden.seeds} seeds)\n` +
          `  optuna tpe    ${summary(g.tpe)}\n  optuna random ${summary(g.random)}\n` +
          `  our tpe       ${summary(tpe)}\n  our random    ${summary(random)}`,
      );
      expect(q(tpe, 50)).toBeLessThan(q(random, 50));
      expect(q(tpe, 50)).toBeGreaterThanOrEqual(Math.min(...g.tpe));
      expect(q(tpe, 50)).toBeLessThanOrEqual(Math.max(...g.tpe));
    });
});
