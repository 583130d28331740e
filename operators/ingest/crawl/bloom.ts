// A Bloom filter over 64-bit hashes (url-hash.ts) with a stated false-positive rate: sized for
// `capacity` keys at rate p it has m bits and k = round(-log2 p) probes, m / capacity = -ln p / ln²2
// bits a key (p = 1e-6: 28.8 bits, k = 20). Probe i is bit (hi + i·lo + i(i-1)/2) mod m (Kirsch and
// Mitzenmacher's enhanced double hashing, so two halves make k independent-enough probes).
// It never forgets and never reports a stored key missing; a new key is reported present with
// probability (fraction of bits set)^k, which stays <= p while it holds at most `capacity` keys.
import type { Hash64 } from './url-hash.ts';

const LN2_SQ = Math.LN2 * Math.LN2;

export class Bloom {
  readonly bits: Uint32Array;
  readonly m: number;
  readonly k: number;
  /** keys it holds at the stated rate */
  readonly capacity: number;
  n = 0;

  /** A filter of `bytes` bytes (rounded down to whole 32-bit words) for rate `p`; `bits` restores one. */
  constructor(
    bytes: number,
    readonly p: number,
    bits?: Uint32Array,
  ) {
    this.bits = bits ?? new Uint32Array(Math.max(1, Math.floor(bytes / 4)));
    // probes index bits with 32-bit unsigned arithmetic (>>> 5), so m stays below 2^32
    if (this.bits.length > 2 ** 27) throw new Error(`Bloom filter of ${bytes} bytes: at most 512 MiB`);
    this.m = this.bits.length * 32;
    this.k = Math.max(1, Math.round(-Math.log2(p)));
    this.capacity = Math.floor((this.m * LN2_SQ) / -Math.log(p));
  }

  get bytes(): number {
    return this.bits.byteLength;
  }

  has(h: Hash64): boolean {
    const { m, k, bits } = this;
    let a = h.hi % m;
    let b = h.lo % m;
    for (let i = 0; i < k; i++) {
      if ((bits[Math.floor(a / 32)]! & (1 << (a % 32))) === 0) return false;
      a = (a + b) % m;
      b = (b + i + 1) % m;
    }
    return true;
  }

  /** Set the key's bits; true when some bit was clear (the key was certainly new). */
  add(h: Hash64): boolean {
    const { m, k, bits } = this;
    let a = h.hi % m;
    let b = h.lo % m;
    let fresh = false;
    for (let i = 0; i < k; i++) {
      const w = Math.floor(a / 32);
      const bit = 1 << (a % 32);
      if ((bits[w]! & bit) === 0) {
        bits[w]! |= bit;
        fresh = true;
      }
      a += b;
      if (a >= m) a -= m;
      b += i + 1;
      if (b >= m) b -= m;
    }
    if (fresh) this.n++;
    return fresh;
  }

  /** The probability that a key not added is reported present, from the bits actually set. */
  falsePositiveRate(): number {
    let set = 0;
    for (let i = 0; i < this.bits.length; i++) {
      let v = this.bits[i]!;
      v -= (v >>> 1) & 0x55555555;
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      set += (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
    }
    return (set / this.m) ** this.k;
  }
}
