// DropPath (stochastic depth, regularize.ts) on its own: it drops a residual branch for a whole
// sequence at once (every row of a sequence, every feature), keeps a sequence with probability
// 1 - rate, scales what it keeps by 1 / (1 - rate) so the expectation is the input, and is the
// identity at rate 0 or without a generator (evaluation).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { dropPath } from '../../src/nn/model/regularize.ts';
import { Rng } from '../../src/runtime/rng.ts';

beforeAll(async () => {
  await initBackend({ announce: false });
});

const apply = (
  x: Float32Array,
  shape: [number, number],
  rate: number,
  batch: number,
  rng: Rng | undefined,
): Float32Array => tf.tidy(() => dropPath(tf.tensor2d(x, shape), rate, batch, rng).dataSync() as Float32Array);

describe('dropPath', () => {
  it('keeps whole sequences with probability 1 - rate, each kept one scaled by 1/(1-rate)', () => {
    const batch = 4000,
      seqLen = 3,
      d = 2,
      rate = 0.25;
    const out = apply(new Float32Array(batch * seqLen * d).fill(1), [batch * seqLen, d], rate, batch, new Rng(17));
    const scale = Math.fround(1 / (1 - rate));
    let kept = 0;
    for (let b = 0; b < batch; b++) {
      const seq = out.subarray(b * seqLen * d, (b + 1) * seqLen * d);
      const first = seq[0]!;
      expect([0, scale]).toContain(first);
      for (const v of seq) expect(v).toBe(first); // the whole sequence together
      if (first !== 0) kept++;
    }
    const sd = Math.sqrt((rate * (1 - rate)) / batch);
    expect(Math.abs(kept / batch - (1 - rate))).toBeLessThan(4 * sd);
  });

  it('preserves the expectation: the mean over many draws is the input', () => {
    const batch = 4,
      seqLen = 5,
      d = 3,
      rate = 0.4,
      draws = 3000;
    const g = new Rng(3);
    const x = Float32Array.from({ length: batch * seqLen * d }, () => 2 * g.next() - 1);
    const sum = new Float64Array(x.length);
    const rng = new Rng(8);
    for (let k = 0; k < draws; k++) {
      const out = apply(x, [batch * seqLen, d], rate, batch, rng);
      for (let i = 0; i < x.length; i++) sum[i]! += out[i]!;
    }
    // each element's mean is x * (kept share) / (1 - rate): sd |x| sqrt(rate / (1 - rate) / draws)
    const rel = Math.sqrt(rate / (1 - rate) / draws);
    for (let i = 0; i < x.length; i++)
      expect(Math.abs(sum[i]! / draws - x[i]!)).toBeLessThan(5 * rel * Math.abs(x[i]!) + 1e-6);
  });

  it('draws one number per sequence, so the masks depend on the generator alone', () => {
    const x = new Float32Array(6 * 4).fill(1);
    const a = apply(x, [6, 4], 0.5, 3, new Rng(5));
    expect(apply(x, [6, 4], 0.5, 3, new Rng(5))).toEqual(a);
    const r = new Rng(5);
    const expected = [0, 1, 2].map(() => (r.next() >= 0.5 ? 2 : 0));
    expect([0, 1, 2].map((b) => a[b * 8])).toEqual(expected);
  });

  it('is the identity at rate 0 and without a generator', () => {
    const x = Float32Array.from({ length: 12 }, (_, i) => i - 5.5);
    expect(apply(x, [4, 3], 0, 2, new Rng(1))).toEqual(x);
    expect(apply(x, [4, 3], 0.5, 2, undefined)).toEqual(x);
  });
});
