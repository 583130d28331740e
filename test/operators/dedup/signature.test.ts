// MinHash signatures: integer shingle hashing agrees with string shingles, the SIMD and JS permutation
// kernels agree, and estimated Jaccard tracks the exact Jaccard of real edited text.
import { describe, expect, it } from 'vitest';
import { MinHasher } from '../../../operators/dedup/minhash/signature.ts';
import { Permuter } from '../../../operators/dedup/minhash/permute.ts';
import { charStream, shingleSet, wordsOf } from '../../../operators/dedup/minhash/tokens.ts';
import { candidateProbability, chooseBands } from '../../../operators/dedup/minhash/bands.ts';
import { resolveBanding } from '../../../operators/dedup/minhash/config.ts';
import { docBatches, emailBodies, mobyChapters, rng, runOp, sotu } from './corpus.ts';
import { editWords, EDIT_RATES } from './labelled.ts';
import { minhashSignatures } from '../../../operators/dedup/minhash/signature.ts';

const jaccard = (a: Set<string>, b: Set<string>) => {
  let i = 0;
  for (const x of a) if (b.has(x)) i++;
  return i / (a.size + b.size - i);
};
const estimate = (a: Uint32Array, b: Uint32Array) => a.reduce((n, v, i) => n + (v === b[i] ? 1 : 0), 0) / a.length;

describe('minhash signatures', () => {
  it('splits words like the Unicode regex it stands for', () => {
    for (const { text } of [...mobyChapters().slice(0, 20), ...emailBodies('spam-2', 100)]) {
      const viaRegex = (text.match(/[\p{L}\p{M}\p{N}]+/gu) ?? []).map((w) => w.toLowerCase());
      if (/[\u{10000}-\u{10FFFF}İ]/u.test(text)) continue; // astral and dotted-I cases differ by design
      expect(wordsOf(text)).toEqual(viaRegex);
    }
  });

  it('depends only on the shingles: case, punctuation and spacing do not change it', () => {
    const text = mobyChapters()[0]!.text;
    const variant = text.toUpperCase().replace(/[,.;]/g, ' ').replace(/\s+/g, '   ');
    for (const unit of ['word', 'char'] as const) {
      const h = new MinHasher({ unit, shingleSize: unit === 'word' ? 5 : 8, numPerm: 64, seed: 9 });
      expect(shingleSet(variant, unit, 5)).toEqual(shingleSet(text, unit, 5));
      expect(h.sign(variant)).toEqual(h.sign(text));
      expect(estimate(h.sign(text), h.sign(mobyChapters()[1]!.text))).toBeLessThan(0.2);
    }
    expect(charStream('  Call me,   Ishmael! ')).toBe('call me ishmael');
  });

  it('runs the permutations as WebAssembly SIMD, with the same minima as the JS loop', () => {
    const rand = rng(5);
    for (const K of [16, 100, 128, 256]) {
      const a = Int32Array.from({ length: K }, () => (rand() * 2 ** 32) | 1);
      const b = Int32Array.from({ length: K }, () => (rand() * 2 ** 32) | 0);
      const simd = new Permuter(a, b),
        js = new Permuter(a, b, false);
      expect(simd.simd).toBe(true);
      for (const n of [0, 1, 7, 5000, 40000]) {
        let xs = simd.xs,
          ys = js.xs;
        for (let i = 0; i < n; i++) {
          if (i === xs.length) xs = simd.grow(i);
          if (i === ys.length) ys = js.grow(i);
          xs[i] = ys[i] = (rand() * 2 ** 32) | 0;
        }
        const m1 = new Int32Array(K),
          m2 = new Int32Array(K);
        simd.minima(n, m1);
        js.minima(n, m2);
        expect(m1).toEqual(m2);
        if (n > 0)
          expect(m1[0]).toBe(Math.min(...Array.from(ys.subarray(0, n), (x) => (Math.imul(a[0]!, x) + b[0]!) | 0)));
      }
    }
  });

  it('estimates the exact Jaccard of real edited documents without bias', () => {
    const rand = rng(11);
    const texts = [...sotu().filter((_, i) => i % 10 === 0), ...emailBodies('easy-ham-2', 20)]
      .map((t) => t.text)
      .filter((t) => t.length > 2000);
    const vocab = ['whale', 'nation', 'congress', 'ship', 'people', 'year', 'sea', 'law'];
    for (const unit of ['word', 'char'] as const) {
      const size = unit === 'word' ? 5 : 9;
      const h = new MinHasher({ unit, shingleSize: size, numPerm: 128, seed: 1 });
      const z: number[] = [];
      for (const [i, t] of texts.entries()) {
        const e = editWords(t, EDIT_RATES[i % EDIT_RATES.length]!, vocab, rand);
        const J = jaccard(shingleSet(t, unit, size), shingleSet(e, unit, size));
        z.push((estimate(h.sign(t), h.sign(e)) - J) / Math.sqrt(Math.max(J * (1 - J), 0.01) / 128));
      }
      const mean = z.reduce((s, v) => s + v, 0) / z.length;
      const rms = Math.sqrt(z.reduce((s, v) => s + v * v, 0) / z.length);
      console.log(`${unit} shingles: ${z.length} pairs, z-score mean ${mean.toFixed(3)}, rms ${rms.toFixed(3)}`);
      expect(Math.abs(mean)).toBeLessThan(0.5); // unbiased
      expect(rms).toBeGreaterThan(0.5); // a binomial's spread: neither degenerate
      expect(rms).toBeLessThan(1.5); // nor worse than independent permutations
    }
  });

  it('adds a minhash column tagged with its settings, null for a text without shingles', async () => {
    const docs = [
      { id: 'a', text: mobyChapters()[2]!.text },
      { id: 'b', text: '... --- !!!' },
      { id: 'c', text: 'one' },
    ];
    const [out] = await runOp(docBatches(docs), minhashSignatures({ numPerm: 32, shingleSize: 3 }));
    const col = out!.getChild('minhash')!;
    expect(col.type.listSize).toBe(32);
    expect(out!.schema.fields.find((f) => f.name === 'minhash')!.metadata.get('flowlm.minhash')).toBe(
      '{"unit":"word","shingleSize":3,"numPerm":32,"seed":1}',
    );
    expect([col.isValid(0), col.isValid(1), col.isValid(2)]).toEqual([true, false, true]);
    const h = new MinHasher({ unit: 'word', shingleSize: 3, numPerm: 32, seed: 1 });
    expect(Array.from(col.get(0)!.toArray())).toEqual(Array.from(h.sign(docs[0]!.text)));
    expect(out!.getChild('text')!.get(0)).toBe(docs[0]!.text);
  });

  it('chooses bands x rows whose S-curve crosses near the threshold', () => {
    for (const t of [0.5, 0.7, 0.8, 0.9]) {
      const { bands, rows } = chooseBands(t, 128);
      expect(bands * rows).toBeLessThanOrEqual(128);
      expect(candidateProbability(t - 0.15, bands, rows)).toBeLessThan(0.5);
      expect(candidateProbability(Math.min(t + 0.1, 0.99), bands, rows)).toBeGreaterThan(0.5);
    }
    // with verification LSH only proposes: nearly every pair at the threshold must be proposed
    const v = resolveBanding({ threshold: 0.8, verify: true, numPerm: 128 });
    expect(candidateProbability(0.8, v.bands, v.rows)).toBeGreaterThan(0.98);
    expect(resolveBanding({ threshold: 0.8, verify: false, numPerm: 128, bands: 16 })).toEqual({ bands: 16, rows: 8 });
  });
});
