// The crawler's memory of every URL it has met, in at most `bound` bytes. It starts exact: an
// open-addressing table of 64-bit URL hashes (8 bytes a slot, at most half full, so 16 bytes a URL;
// a false "seen" needs two URLs' 64-bit hashes to collide, odds n / 2^63). When that table would
// pass a quarter of the bound, every hash moves into a Bloom filter of the other three quarters
// sized for rate `p` (the peak, both at once, is the bound) and the table is freed. A full filter
// (holding its capacity at rate p) admits nothing new: `add` answers 'full' and the crawler drops
// the URL with reason "seen set full", so the stated rate holds for the whole run.
// Figures, 64 MB and p = 1e-6: exact for 1,048,576 URLs, then a 48 MB filter of k = 20 probes
// holding 13.99 million URLs.
import { Bloom } from './bloom.ts';
import type { Hash64 } from './url-hash.ts';

const FIRST_SLOTS = 1024;

/** What a seen set holds, to be saved (state-file.ts) and restored. */
export interface SeenSnapshot {
  mode: 'exact' | 'bloom';
  /** exact: the hashes, hi and lo of each; bloom: the filter's bits */
  words: Uint32Array;
  n: number;
  p: number;
}

export interface SeenSetInfo {
  mode: 'exact' | 'bloom';
  /** URLs (and too-deep marks) stored */
  n: number;
  /** bytes held now */
  bytes: number;
  bound: number;
  /** probability that a URL never met is reported seen (exact: hash collision odds) */
  falsePositiveRate: number;
  /** rate the set keeps to (the configured one) */
  statedRate: number;
  /** URLs it can hold at the stated rate */
  capacity: number;
}

export class SeenSet {
  private table: Uint32Array | null = new Uint32Array(FIRST_SLOTS * 2);
  private bloom: Bloom | null = null;
  private count = 0;

  constructor(
    readonly bound: number,
    readonly p: number,
  ) {
    if (bound < 64 * 1024) throw new Error(`seen set: a bound of ${bound} bytes is too small (64 KiB at least)`);
  }

  get size(): number {
    return this.bloom ? this.bloom.n : this.count;
  }

  get bytes(): number {
    return this.bloom ? this.bloom.bytes : this.table!.byteLength;
  }

  has(h: Hash64): boolean {
    if (this.bloom) return this.bloom.has(h);
    return this.slot(this.table!, h) < 0;
  }

  /** 'new' (now stored), 'known' (stored before, or a false positive), or 'full' (new, not stored). */
  add(h: Hash64): 'new' | 'known' | 'full' {
    if (this.bloom) {
      if (this.bloom.has(h)) return 'known';
      if (this.bloom.n >= this.bloom.capacity) return 'full';
      this.bloom.add(h);
      return 'new';
    }
    let t = this.table!;
    if (this.slot(t, h) < 0) return 'known';
    if ((this.count + 1) * 4 > t.length) {
      // past half full: double, or move to the filter when a doubled table would pass bound / 4
      if (t.byteLength * 2 > this.bound / 4) {
        this.toBloom();
        return this.add(h);
      }
      this.table = t = this.rehash(t, t.length * 2);
    }
    const s = this.find(t, h);
    t[s] = h.hi;
    t[s + 1] = h.lo;
    this.count++;
    return 'new';
  }

  /** An empty slot's index for `h`, or -1 when `h` is stored. */
  private slot(t: Uint32Array, h: Hash64): number {
    const s = this.find(t, h);
    return t[s + 1] === 0 ? s : -1;
  }

  /** Index of h's slot, or of the empty slot where its probe ends (linear probing). */
  private find(t: Uint32Array, h: Hash64): number {
    const mask = t.length / 2 - 1;
    let i = (h.hi ^ Math.imul(h.lo, 0x9e3779b1)) & mask;
    for (;;) {
      const lo = t[i * 2 + 1]!;
      if (lo === 0 || (lo === h.lo && t[i * 2] === h.hi)) return i * 2;
      i = (i + 1) & mask;
    }
  }

  private rehash(old: Uint32Array, length: number): Uint32Array {
    const t = new Uint32Array(length);
    const h = { hi: 0, lo: 0 };
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === 0) continue;
      h.hi = old[i]!;
      h.lo = old[i + 1]!;
      const s = this.find(t, h);
      t[s] = h.hi;
      t[s + 1] = h.lo;
    }
    return t;
  }

  private toBloom(): void {
    const t = this.table!;
    const b = new Bloom(this.bound - this.bound / 4, this.p);
    const h = { hi: 0, lo: 0 };
    for (let i = 0; i < t.length; i += 2) {
      if (t[i + 1] === 0) continue;
      h.hi = t[i]!;
      h.lo = t[i + 1]!;
      b.add(h);
    }
    this.bloom = b;
    this.table = null;
  }

  info(): SeenSetInfo {
    const b = this.bloom;
    return {
      mode: b ? 'bloom' : 'exact',
      n: this.size,
      bytes: this.bytes,
      bound: this.bound,
      falsePositiveRate: b ? b.falsePositiveRate() : this.count / 2 ** 63,
      statedRate: this.p,
      capacity: b ? b.capacity : new Bloom(this.bound - this.bound / 4, this.p).capacity,
    };
  }

  /**
   * Its contents. A filter's words are its own bits, not a copy (48 MB at the default bound): write
   * them out before the set takes more URLs.
   */
  snapshot(): SeenSnapshot {
    if (this.bloom) return { mode: 'bloom', words: this.bloom.bits, n: this.bloom.n, p: this.bloom.p };
    const t = this.table!;
    const packed = new Uint32Array(this.count * 2);
    let j = 0;
    for (let i = 0; i < t.length; i += 2)
      if (t[i + 1] !== 0) {
        packed[j++] = t[i]!;
        packed[j++] = t[i + 1]!;
      }
    return { mode: 'exact', words: packed, n: this.count, p: this.p };
  }

  /** Add what a saved set held (a resumed crawl). A saved filter replaces this set's contents. */
  restore(s: SeenSnapshot): void {
    const { words } = s;
    if (s.mode === 'exact') {
      const h = { hi: 0, lo: 0 };
      for (let i = 0; i < words.length; i += 2) {
        h.hi = words[i]!;
        h.lo = words[i + 1]!;
        this.add(h);
      }
      return;
    }
    if (words.byteLength > this.bound - this.bound / 4)
      throw new Error(
        `the saved seen set is a ${mb(words.byteLength)} MB Bloom filter, more than this run's seenMemoryMB allows ` +
          `(${mb(this.bound)} MB, three quarters for the filter); raise seenMemoryMB to at least ` +
          `${Math.ceil((words.byteLength * 4) / 3 / 2 ** 20)} or start a new statePath`,
      );
    const b = new Bloom(words.byteLength, s.p, words);
    b.n = s.n;
    this.bloom = b;
    this.table = null;
    this.count = 0;
  }
}

const mb = (n: number) => (n / 2 ** 20).toFixed(1);
