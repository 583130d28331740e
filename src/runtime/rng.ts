// A small seeded PRNG whose whole state is four numbers, so it can be saved in a checkpoint and
// restored to continue the identical sequence (shuffle buffers, data order, dropout masks).
// Algorithm: xoshiro128** (Blackman & Vigna), 32-bit arithmetic, which V8 runs fast with Math.imul;
// seeds are expanded with splitmix32 so that nearby seeds give unrelated streams.

/** What `Rng.save()` returns: plain JSON, for state.json in checkpoints. */
export interface RngState {
  algorithm: 'xoshiro128**';
  s: [number, number, number, number];
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

/** splitmix32 step: returns [next counter, output]. */
function splitmix32(a: number): [number, number] {
  const next = (a + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return [next, (z ^ (z >>> 15)) >>> 0];
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A generator for `seed`, any safe integer (negative too): both 32-bit halves matter. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Rng: seed must be a safe integer, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
    // the high half is mixed before it meets the low half, so seeds 1 and 2^32 differ
    let c = lo ^ splitmix32(hi ^ 0x5bd1e995)[1];
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [n, out] = splitmix32(c);
      c = n;
      words.push(out);
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the one state xoshiro cannot leave
  }

  /** A generator continuing exactly where the one that saved `state` was. */
  static restore(state: RngState): Rng {
    const ok =
      state?.algorithm === 'xoshiro128**' &&
      Array.isArray(state.s) &&
      state.s.length === 4 &&
      state.s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) &&
      state.s.some((w) => w !== 0);
    if (!ok)
      throw new Error(
        `Rng.restore: not a saved xoshiro128** state (four uint32 words, not all zero): ${JSON.stringify(state)}`,
      );
    const r = new Rng(0);
    [r.s0, r.s1, r.s2, r.s3] = state.s.map((w) => w | 0) as [number, number, number, number];
    return r;
  }

  save(): RngState {
    return { algorithm: 'xoshiro128**', s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0] };
  }

  /** The next 32 random bits as an unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** A float in [0, 1) with 53 random bits. */
  next(): number {
    return ((this.nextU32() >>> 5) * 0x4000000 + (this.nextU32() >>> 6)) / 0x20000000000000;
  }

  /** An integer in [0, n), unbiased (rejection of the short last range), for 1 <= n <= 2^32. */
  below(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x1_0000_0000)
      throw new RangeError(`Rng.below: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}
