// chart-spec.ts: TensorBoard's debiased moving average against its closed form, the key order, and the
// spec compiled by vega-lite and run by vega (in Node) holding every row of every run.
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { DATASET, chartRows, chartSpec, orderKeys, runLabel, smooth } from '../../src/ui/chart-spec.ts';

// s_t = sum_i w^(t-i) (1-w) x_i / (1 - w^(t+1)): the recursion unrolled, over the finite values only
function closedForm(xs: readonly number[], w: number): number[] {
  return xs.map((_, t) => {
    let num = 0;
    for (let i = 0; i <= t; i++) num += w ** (t - i) * (1 - w) * xs[i]!;
    return num / (1 - w ** (t + 1));
  });
}

describe('smooth', () => {
  it('is the debiased exponential moving average', () => {
    const xs = [3, 1, 4, 1, 5, 9, 2, 6];
    for (const w of [0.3, 0.6, 0.9, 0.99])
      smooth(xs, w).forEach((v, i) => expect(v).toBeCloseTo(closedForm(xs, w)[i]!, 12));
  });

  it('keeps a constant series constant (the debiasing) and weight 0 is the raw series', () => {
    expect(smooth([2, 2, 2, 2], 0.9).map((v) => Math.round(v! * 1e12) / 1e12)).toEqual([2, 2, 2, 2]);
    expect(smooth([5, 1, 7], 0)).toEqual([5, 1, 7]);
  });

  it('passes NaN and null through without advancing the average', () => {
    const out = smooth([1, null, Number.NaN, 3], 0.5);
    const ref = closedForm([1, 3], 0.5);
    expect(out[1]).toBeNull();
    expect(out[2]).toBeNaN();
    expect([out[0], out[3]]).toEqual(ref);
  });
});

describe('chartSpec', () => {
  it('orders the training keys first, then the rest alphabetically', () => {
    expect(orderKeys(['eval/acc', 'train/lr', 'val/loss', 'train/loss', 'a/b', 'train/loss'])).toEqual([
      'train/loss',
      'val/loss',
      'train/lr',
      'a/b',
      'eval/acc',
    ]);
  });

  it('compiles to a vega view holding one row per run and step, raw and smoothed', async () => {
    const a = {
      runId: 'aaaaaaaaaaaa',
      label: runLabel({ id: 'aaaaaaaaaaaa', name: 'one' }),
      points: [
        [1, 4],
        [2, 3],
        [3, 2],
      ] as [number, number][],
    };
    const b = {
      runId: 'bbbbbbbbbbbb',
      label: runLabel({ id: 'bbbbbbbbbbbb', name: 'two' }),
      points: [
        [1, 5],
        [2, null],
      ] as [number, number | null][],
    };
    expect(a.label).toBe('one · aaaaaaaa');
    const rows = chartRows([a, b], 0.6);
    expect(rows).toHaveLength(5);
    const view = new vega.View(vega.parse(compile(chartSpec('train/loss', rows, { smoothing: 0.6 })).spec), {
      renderer: 'none',
    });
    await view.runAsync();
    const data = view.data(DATASET) as typeof rows;
    expect(data.filter((r) => r.run === a.runId).map((r) => r.value)).toEqual([4, 3, 2]);
    expect(data.filter((r) => r.run === a.runId).map((r) => r.smoothed)).toEqual(smooth([4, 3, 2], 0.6));
    expect(data.filter((r) => r.run === b.runId)).toHaveLength(2);
    const svg = await view.toSVG();
    // two layers (raw, smoothed) of two runs: four line paths
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(4);
    view.finalize();
  });
});
