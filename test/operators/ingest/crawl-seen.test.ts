// The crawler's seen set against its stated figures: exact while its table fits a quarter of the
// bound (no false positives, no false negatives), then a Bloom filter whose measured false-positive
// rate at capacity matches the rate it was sized for (reference: the analytic (1 - e^(-kn/m))^k), and
// that admits nothing past its capacity. Its bytes never pass the bound; its state survives a save.
import { describe, expect, it } from 'vitest';
import { Frontier } from '../../../operators/ingest/crawl/frontier.ts';
import { SeenSet } from '../../../operators/ingest/crawl/seen-set.ts';
import { hashUrl } from '../../../operators/ingest/crawl/url-hash.ts';

const MiB = 2 ** 20;
const url = (i: number, salt = 'a') => `https://docs.example.org/${salt}/section-${i % 97}/page-${i}.html?v=${i * 7}`;

function fill(s: SeenSet, n: number, salt = 'a'): { maxBytes: number; outcomes: Record<string, number> } {
  const h = { hi: 0, lo: 0 };
  const outcomes: Record<string, number> = { new: 0, known: 0, full: 0 };
  let maxBytes = 0;
  for (let i = 0; i < n; i++) {
    outcomes[s.add(hashUrl(url(i, salt), h))]!++;
    maxBytes = Math.max(maxBytes, s.bytes);
  }
  return { maxBytes, outcomes };
}

const fresh = (s: SeenSet, n: number) => {
  const h = { hi: 0, lo: 0 };
  let hits = 0;
  for (let i = 0; i < n; i++) if (s.has(hashUrl(url(i, 'fresh'), h))) hits++;
  return hits;
};

describe('crawl seen set', () => {
  it('is exact while the table fits a quarter of the bound', () => {
    const s = new SeenSet(1 * MiB, 1e-3);
    const r = fill(s, 16_000);
    expect(r.outcomes).toEqual({ new: 16_000, known: 0, full: 0 }); // 16,384 fit: 32,768 slots of 8 bytes
    expect(s.info().mode).toBe('exact');
    expect(r.maxBytes).toBeLessThanOrEqual(MiB / 4);
    expect(fill(s, 16_000).outcomes.known).toBe(16_000); // every one remembered
    expect(fresh(s, 50_000)).toBe(0);
  });

  it('then a Bloom filter whose false-positive rate at capacity is the stated one', () => {
    const p = 1e-2;
    const s = new SeenSet(MiB / 4, p);
    const cap = s.info().capacity;
    expect(cap).toBeGreaterThan(160_000); // 192 KiB of bits at 1e-2: 9.6 bits a URL
    const r = fill(s, cap);
    const info = s.info();
    expect(info.mode).toBe('bloom');
    expect(r.maxBytes).toBeLessThanOrEqual(MiB / 4);
    // a new key that hits set bits is a false positive: counted known, at about rate p
    expect(r.outcomes.new! + r.outcomes.known!).toBe(cap);
    expect(r.outcomes.known!).toBeLessThan(cap * p);
    // no false negatives
    expect(fill(s, cap).outcomes.known).toBe(cap);
    // the measured rate over keys never added, against the analytic rate and the set's own estimate
    const trials = 100_000;
    const measured = fresh(s, trials) / trials;
    const bits = info.bytes * 8;
    const k = Math.round(-Math.log2(p));
    const analytic = (1 - Math.exp((-k * info.n) / bits)) ** k;
    expect(analytic).toBeGreaterThan(0.8 * p);
    expect(analytic).toBeLessThan(1.1 * p);
    expect(info.falsePositiveRate).toBeGreaterThan(0.9 * analytic);
    expect(info.falsePositiveRate).toBeLessThan(1.1 * analytic);
    // ~1,000 expected hits: +-20% is over 6 standard deviations
    console.log(
      `seen set at capacity ${cap}: measured FP ${measured}, estimated ${info.falsePositiveRate}, stated ${p}`,
    );
    expect(measured).toBeGreaterThan(0.8 * analytic);
    expect(measured).toBeLessThan(1.2 * analytic);
  });

  it('admits nothing past its capacity, so the stated rate holds', () => {
    const s = new SeenSet(256 * 1024, 1e-2);
    const cap = s.info().capacity;
    const r = fill(s, cap + 5_000);
    expect(r.outcomes.full).toBeGreaterThan(4_000);
    expect(s.size).toBeLessThanOrEqual(cap);
    expect(s.info().falsePositiveRate).toBeLessThanOrEqual(1e-2 * 1.1);
    expect(r.maxBytes).toBeLessThanOrEqual(256 * 1024);
  });

  it('a bigger bound holds more URLs; a smaller rate fewer', () => {
    const cap = (mb: number, p: number) => new SeenSet(mb * MiB, p).info().capacity;
    expect(cap(2, 1e-6) / cap(1, 1e-6)).toBeCloseTo(2, 2);
    expect(cap(1, 1e-3) / cap(1, 1e-6)).toBeCloseTo(2, 1); // -ln p halves
  });

  it('survives a snapshot and restore, exact and as a filter', () => {
    for (const n of [5_000, 30_000]) {
      const s = new SeenSet(MiB / 2, 1e-4);
      fill(s, n);
      const t = new SeenSet(MiB / 2, 1e-4);
      const snap = s.snapshot();
      t.restore({ ...snap, words: snap.words.slice() }); // a filter's snapshot is its own bits: copied, as a file is
      expect(t.info().mode).toBe(s.info().mode);
      expect(fill(t, n).outcomes.known).toBe(n);
      expect(t.size).toBe(s.size);
    }
    const big = new SeenSet(2 * MiB, 1e-4);
    fill(big, 70_000);
    const small = new SeenSet(1 * MiB, 1e-4);
    expect(() => small.restore(big.snapshot())).toThrow(/raise seenMemoryMB to at least 2/);
  });

  it('keeps "met only too deep" apart from "met"', () => {
    const f = new Frontier((u) => new URL(u).origin, new SeenSet(1 * MiB, 1e-6));
    expect(f.claimDeep('http://a/x')).toBe('new');
    expect(f.known('http://a/x')).toBe(false);
    expect(f.knownDeep('http://a/x')).toBe(true);
    expect(f.claim('http://a/x')).toBe('new');
    expect(f.claim('http://a/x')).toBe('known');
  });
});
