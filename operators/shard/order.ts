// The global sample order of one epoch: a seeded permutation of the shards, then a seeded permutation
// of each shard's rows, laid end to end. It is a function of (seed, epoch) and the manifest only: the
// number of ranks reading it never enters, which is what lets a run resume at another world size.
import { createHash } from 'node:crypto';

/** xoshiro128** seeded from sha256 of a key: a small, fast generator whose stream every platform
 * reproduces exactly (Math.random cannot be seeded). */
export class SeededRandom {
  private s: Uint32Array;
  constructor(key: string) {
    const h = createHash('sha256').update(key).digest();
    this.s = new Uint32Array([h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12)]);
    if (this.s.every((v) => v === 0)) this.s[0] = 1; // the one state the generator cannot leave
  }
  next(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }
  /** Uniform integer in [0, n), n <= 2^32 (rejection: no modulo bias). */
  below(n: number): number {
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.next();
      if (x < limit) return x % n;
    }
  }
}
const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/** 0..n-1 shuffled (Fisher-Yates) by the generator of `key`; in order when `shuffle` is false. */
export function permutation(n: number, key: string, shuffle: boolean): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  if (!shuffle) return p;
  const rng = new SeededRandom(key);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

export interface Place {
  shard: number;
  row: number;
}

/** One epoch's order over shards of the given row counts. Row permutations are made per shard when
 * first asked for and only the most recent few are kept (a shard's is as large as its row count). */
export class EpochOrder {
  /** shard indices in visiting order */
  readonly shards: Uint32Array;
  /** global position where each visited shard begins (one more entry: the epoch's length) */
  readonly starts: Float64Array;
  private readonly rows = new Map<number, Uint32Array>();

  constructor(
    private readonly shardRows: readonly number[],
    readonly seed: number,
    readonly epoch: number,
    readonly shuffle: boolean,
  ) {
    this.shards = permutation(shardRows.length, `flowlm-shards/${seed}/${epoch}/shards`, shuffle);
    this.starts = new Float64Array(shardRows.length + 1);
    this.shards.forEach((s, k) => {
      this.starts[k + 1] = this.starts[k]! + shardRows[s]!;
    });
  }

  get length(): number {
    return this.starts[this.shards.length]!;
  }

  /** The shard and row holding global position `index` (0 <= index < length) of this epoch. */
  at(index: number): Place {
    let lo = 0,
      hi = this.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    const shard = this.shards[lo]!;
    return { shard, row: this.rowOrder(shard)[index - this.starts[lo]!]! };
  }

  /** Shard that follows `shard` in this epoch's visiting order (undefined after the last). */
  after(shard: number): number | undefined {
    const k = this.shards.indexOf(shard);
    return k >= 0 && k + 1 < this.shards.length ? this.shards[k + 1] : undefined;
  }

  private rowOrder(shard: number): Uint32Array {
    let p = this.rows.get(shard);
    if (!p) {
      p = permutation(this.shardRows[shard]!, `flowlm-shards/${this.seed}/${this.epoch}/rows/${shard}`, this.shuffle);
      if (this.rows.size >= 2) this.rows.delete(this.rows.keys().next().value!);
      this.rows.set(shard, p);
    }
    return p;
  }
}
