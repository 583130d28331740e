// Random and grid samplers: determinism per (seed, trial number), bounds, int steps, log scale,
// categorical choices, and the grid's visiting order (Optuna's GridSampler semantics).
import { describe, expect, it } from 'vitest';
import { gridSampler, gridSize, gridValues } from '../../src/tune/samplers/grid.ts';
import { randomSampler } from '../../src/tune/samplers/random.ts';
import { tpeSampler } from '../../src/tune/samplers/tpe.ts';
import type { ParamValue, SearchSpace, TrialRecord, TrialState } from '../../src/tune/types.ts';

const space: SearchSpace = {
  'optimizer.lr': { type: 'log-uniform', low: 1e-5, high: 1e-1 },
  'optimizer.beta2': { type: 'uniform', low: 0.9, high: 0.999 },
  'model.nLayer': { type: 'int', low: 2, high: 20, step: 3 },
  'data.batch': { type: 'int', low: 1, high: 1024, log: true },
  'model.act': { type: 'categorical', choices: ['gelu', 'relu', true, 3] },
};

const record = (number: number, params: Record<string, ParamValue>, state: TrialState = 'complete'): TrialRecord => ({
  number,
  params,
  state,
  value: number,
  intermediate: new Map(),
});

function draws(n: number, seed = 1): Record<string, ParamValue>[] {
  const s = randomSampler({ seed });
  return Array.from({ length: n }, (_, i) => s.sample(space, [], i));
}
const column = (rows: Record<string, ParamValue>[], k: string) => rows.map((r) => r[k]!);

describe('randomSampler', () => {
  it('gives trial n the same params whatever trials exist, and different ones for other n or seeds', () => {
    const s = randomSampler({ seed: 7 });
    const a = s.sample(space, [], 5);
    const trials = [record(0, s.sample(space, [], 0)), record(9, s.sample(space, [], 9), 'running')];
    expect(randomSampler({ seed: 7 }).sample(space, trials, 5)).toEqual(a);
    expect(s.sample(space, [], 6)).not.toEqual(a);
    expect(randomSampler({ seed: 8 }).sample(space, [], 5)).not.toEqual(a);
    // a param's value does not depend on the other keys of the space
    expect(s.sample({ 'optimizer.lr': space['optimizer.lr']! }, [], 5)['optimizer.lr']).toBe(a['optimizer.lr']);
  });

  const rows = draws(4000);

  it('keeps floats in [low, high) and spreads log-uniform evenly in log space', () => {
    const lr = column(rows, 'optimizer.lr') as number[];
    const b2 = column(rows, 'optimizer.beta2') as number[];
    expect(Math.min(...lr)).toBeGreaterThanOrEqual(1e-5);
    expect(Math.max(...lr)).toBeLessThan(1e-1);
    expect(Math.min(...b2)).toBeGreaterThanOrEqual(0.9);
    expect(Math.max(...b2)).toBeLessThan(0.999);
    // each decade of [1e-5, 1e-1] holds a quarter of the draws (binomial sd 0.007)
    for (let e = -5; e < -1; e++) {
      const share = lr.filter((x) => x >= 10 ** e && x < 10 ** (e + 1)).length / lr.length;
      expect(Math.abs(share - 0.25)).toBeLessThan(0.03);
    }
    // uniform: mean and variance of U(0.9, 0.999)
    const mean = b2.reduce((a, b) => a + b, 0) / b2.length;
    expect(Math.abs(mean - 0.9495)).toBeLessThan(0.002);
  });

  it('gives ints on the step grid, every value equally often', () => {
    const n = column(rows, 'model.nLayer') as number[];
    const values = [2, 5, 8, 11, 14, 17, 20];
    expect(new Set(n)).toEqual(new Set(values));
    for (const v of values) expect(Math.abs(n.filter((x) => x === v).length / n.length - 1 / 7)).toBeLessThan(0.025);
  });

  it("gives log ints with Optuna's odds: P(x) is the log width of [x - 1/2, x + 1/2]", () => {
    const b = column(rows, 'data.batch') as number[];
    expect(b.every((x) => Number.isInteger(x) && x >= 1 && x <= 1024)).toBe(true);
    const p = (x: number) => Math.log((x + 0.5) / (x - 0.5)) / Math.log(1024.5 / 0.5);
    for (const x of [1, 2, 3]) expect(Math.abs(b.filter((v) => v === x).length / b.length - p(x))).toBeLessThan(0.02);
    expect(
      Math.abs(b.filter((v) => v > 32).length / b.length - Math.log(1024.5 / 32.5) / Math.log(1024.5 / 0.5)),
    ).toBeLessThan(0.03);
  });

  it('draws categorical choices uniformly, keeping their types', () => {
    const c = column(rows, 'model.act');
    for (const choice of ['gelu', 'relu', true, 3])
      expect(Math.abs(c.filter((x) => x === choice).length / c.length - 0.25)).toBeLessThan(0.03);
  });
});

describe('gridSampler', () => {
  const small: SearchSpace = {
    'trainer.warmup': { type: 'int', low: 0, high: 200, step: 100 },
    'model.act': { type: 'categorical', choices: ['gelu', 'relu'] },
    'optimizer.lr': { type: 'log-uniform', low: 1e-4, high: 1e-2 },
  };

  it('enumerates ints and choices and needs `points` for continuous params', () => {
    expect(gridValues('w', small['trainer.warmup']!)).toEqual([0, 100, 200]);
    expect(gridValues('a', small['model.act']!)).toEqual(['gelu', 'relu']);
    expect(gridValues('lr', small['optimizer.lr']!, { points: 3 })).toEqual(
      [1e-4, 1e-3, 1e-2].map((x, i) => (i === 1 ? expect.closeTo(x, 15) : x)),
    );
    expect(gridValues('u', { type: 'uniform', low: 0, high: 1 }, { points: 5 })).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(gridValues('b', { type: 'int', low: 1, high: 1000, log: true }, { points: 4 })).toEqual([1, 10, 100, 1000]);
    expect(() => gridSampler(small)).toThrow(/optimizer\.lr.*log-uniform.*points/);
    expect(gridSize(small, { points: { 'optimizer.lr': 4 } })).toBe(3 * 2 * 4);
  });

  it('visits every point once in product order of the sorted keys, the last key fastest', () => {
    const g = gridSampler(small, { points: 2 });
    expect(g.size).toBe(12);
    const trials: TrialRecord[] = [];
    for (let n = 0; n < 12; n++) trials.push(record(n, g.sample(small, trials, n)));
    const seen = trials.map((t) => [t.params['model.act'], t.params['optimizer.lr'], t.params['trainer.warmup']]);
    expect(seen.slice(0, 4)).toEqual([
      ['gelu', 1e-4, 0],
      ['gelu', 1e-4, 100],
      ['gelu', 1e-4, 200],
      ['gelu', 1e-2, 0],
    ]);
    expect(new Set(seen.map((p) => JSON.stringify(p))).size).toBe(12);
    // exhausted: the grid is visited again rather than failing
    expect(g.sample(small, trials, 12)).toEqual(trials[0]!.params);
  });

  it('with a seed visits a fixed permutation; skips points held by running or failed trials', () => {
    const a = gridSampler(small, { points: 2, seed: 3 });
    const b = gridSampler(small, { points: 2, seed: 3 });
    const trials: TrialRecord[] = [];
    for (let n = 0; n < 12; n++) {
      const p = a.sample(small, trials, n);
      expect(b.sample(small, trials, n)).toEqual(p);
      trials.push(record(n, p, n % 3 === 0 ? 'failed' : n % 3 === 1 ? 'running' : 'pruned'));
    }
    expect(new Set(trials.map((t) => JSON.stringify(t.params))).size).toBe(12);
    const product = gridSampler(small, { points: 2 });
    const firstInOrder: TrialRecord[] = [];
    for (let n = 0; n < 12; n++) firstInOrder.push(record(n, product.sample(small, firstInOrder, n)));
    expect(trials.map((t) => t.params)).not.toEqual(firstInOrder.map((t) => t.params));
  });

  it('refuses a space other than the one it was built for', () => {
    const g = gridSampler(small, { points: 2 });
    expect(() => g.sample({ x: { type: 'int', low: 0, high: 1 } }, [], 0)).toThrow(/grid was built for/);
  });
});

describe('tpeSampler on mixed spaces', () => {
  it('samples valid values of every kind, deterministically given seed, number and trials', () => {
    const tpe = tpeSampler({ seed: 5, direction: 'minimize', nStartupTrials: 5 });
    const trials: TrialRecord[] = [];
    for (let n = 0; n < 30; n++) {
      const p = tpe.sample(space, trials, n);
      expect(tpeSampler({ seed: 5, direction: 'minimize', nStartupTrials: 5 }).sample(space, trials, n)).toEqual(p);
      const lr = p['optimizer.lr'] as number;
      expect(lr >= 1e-5 && lr <= 1e-1).toBe(true);
      expect([2, 5, 8, 11, 14, 17, 20]).toContain(p['model.nLayer']);
      expect(Number.isInteger(p['data.batch']) && (p['data.batch'] as number) >= 1).toBe(true);
      expect(['gelu', 'relu', true, 3]).toContain(p['model.act']);
      // objective: best near lr 1e-3, 8 layers, 'relu'
      const value =
        Math.abs(Math.log10(lr) + 3) +
        Math.abs((p['model.nLayer'] as number) - 8) / 3 +
        (p['model.act'] === 'relu' ? 0 : 1);
      trials.push({ ...record(n, p), value });
    }
    // after the startup trials TPE concentrates on the good region
    const late = trials.slice(20);
    expect(late.filter((t) => t.params['model.act'] === 'relu').length).toBeGreaterThan(late.length / 2);
  });
});
