// The seeded PRNG: xoshiro128** as its authors wrote it, state saved and restored mid-stream (what a
// checkpoint does), seeds that differ give different streams, unbiased bounded integers.
import { describe, expect, it } from 'vitest';
import { Rng, type RngState } from '../../src/runtime/rng.ts';

const draw = (r: Rng, n: number) => Array.from({ length: n }, () => r.nextU32());

describe('Rng', () => {
  it('matches the reference xoshiro128** C code', () => {
    // outputs of Blackman & Vigna's xoshiro128starstar.c (next()) from the state {1, 2, 3, 4}
    const r = Rng.restore({ algorithm: 'xoshiro128**', s: [1, 2, 3, 4] });
    expect(draw(r, 6)).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('continues the identical sequence after save/restore through JSON', () => {
    const a = new Rng(1234);
    draw(a, 1000);
    const saved = JSON.parse(JSON.stringify(a.save())) as RngState;
    const rest = draw(a, 50);
    const b = Rng.restore(saved);
    expect(draw(b, 50)).toEqual(rest);
    expect(b.save()).toEqual(a.save());
  });

  it('gives the same stream for the same seed and different streams for different seeds', () => {
    expect(draw(new Rng(7), 8)).toEqual(draw(new Rng(7), 8));
    const seeds = [0, 1, 2, -1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER];
    const firsts = seeds.map((s) => draw(new Rng(s), 4).join(','));
    expect(new Set(firsts).size).toBe(seeds.length);
    expect(() => new Rng(0.5)).toThrow(/safe integer/);
  });

  it('draws bounded integers without bias and floats in [0, 1)', () => {
    const r = new Rng(99);
    const counts = new Array<number>(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[r.below(10)]!++;
    const chi2 = counts.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
    expect(chi2).toBeLessThan(33.7); // 9 degrees of freedom, p = 1e-4
    // n near 2^32: the rejection keeps every value below n
    for (let i = 0; i < 1000; i++) expect(r.below(3_000_000_001)).toBeLessThan(3_000_000_001);
    let lo = 1,
      hi = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = r.next();
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(lo).toBeLessThan(0.001);
    expect(hi).toBeLessThan(1);
    expect(hi).toBeGreaterThan(0.999);
  });

  it('shuffles into a permutation, differently for different seeds', () => {
    const a = new Rng(1).shuffle(Array.from({ length: 500 }, (_, i) => i));
    const b = new Rng(2).shuffle(Int32Array.from({ length: 500 }, (_, i) => i));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(Array.from(b).sort((x, y) => x - y)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(Array.from(b)).not.toEqual(a);
  });

  it('refuses a state that is not one it saved', () => {
    expect(() => Rng.restore({ algorithm: 'xoshiro128**', s: [0, 0, 0, 0] })).toThrow(/not all zero/);
    expect(() => Rng.restore({ algorithm: 'xoshiro128**', s: [1, 2, 3] } as unknown as RngState)).toThrow(
      /four uint32 words/,
    );
  });
});
