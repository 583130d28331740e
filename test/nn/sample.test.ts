// Sampling draws from the distribution it claims: frequencies of many seeded draws match softmax(logits /
// T) over the whole vocabulary, over the top k (ties broken by id), and over the nucleus; T = 0 is argmax.
import { describe, expect, it } from 'vitest';
import { sampleToken } from '../../src/nn/model/sample.ts';
import { Rng } from '../../src/runtime/rng.ts';

const logits = Float32Array.from([2, 0.5, -1, 1.5, 0.5, -3, 1]);
const softmax = (xs: number[], t: number) => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp((x - m) / t));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
};
function frequencies(o: Parameters<typeof sampleToken>[1], draws = 40_000): number[] {
  const rng = new Rng(5);
  const f = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) f[sampleToken(logits, o, rng)]! += 1 / draws;
  return f;
}

describe('sampleToken', () => {
  it('whole vocabulary at temperature T: softmax(logits / T)', () => {
    const want = softmax([...logits], 0.7);
    frequencies({ temperature: 0.7 }).forEach((f, i) => expect(Math.abs(f - want[i]!)).toBeLessThan(0.01));
  });
  it('top k: softmax over the k largest; equal logits by id (1 before 4)', () => {
    const f = frequencies({ temperature: 1, topK: 4 });
    const kept = [0, 3, 6, 1]; // logits 2, 1.5, 1, 0.5 (id 1 before id 4)
    const want = softmax(
      kept.map((i) => logits[i]!),
      1,
    );
    kept.forEach((id, j) => expect(Math.abs(f[id]! - want[j]!)).toBeLessThan(0.01));
    expect(f[4]).toBe(0);
    expect(f[2]! + f[5]!).toBe(0);
  });
  it('top p: the smallest set of most likely ids reaching p', () => {
    const p = softmax([...logits], 1);
    // p0 + p3 < 0.75 <= p0 + p3 + p6: the nucleus is {0, 3, 6}
    expect(p[0]! + p[3]!).toBeLessThan(0.75);
    expect(p[0]! + p[3]! + p[6]!).toBeGreaterThanOrEqual(0.75);
    const f = frequencies({ temperature: 1, topP: 0.75 });
    const z = p[0]! + p[3]! + p[6]!;
    for (const id of [0, 3, 6]) expect(Math.abs(f[id]! - p[id]! / z)).toBeLessThan(0.01);
    expect(f[1]! + f[2]! + f[4]! + f[5]!).toBe(0);
  });
  it('temperature 0 is the argmax', () => {
    expect(sampleToken(logits, { temperature: 0 }, new Rng(1))).toBe(0);
  });
});
