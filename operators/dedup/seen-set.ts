// The exact-dedup index: 64-bit text hashes, each with a 31-bit hash of the id of the document that
// first had it. Memory bound: `maxEntries` hashes, ~16 bytes each (12-byte slots at load <= 0.75).
// When full it either fails or evicts: with 'evict' it keeps two generations of maxEntries/2 and
// forgets the older one when the newer fills (recent documents are remembered, old ones are not).
// After a restore, a document whose id was recorded before the save is a replay of an input the
// stopped job already passed on (its output may not have been committed), not its own duplicate.
import { Table64 } from './table64.ts';
import { arrayOf, loadState, saveState } from './state-file.ts';

export const NEW = 0,
  DUPLICATE = 1,
  REPLAY = 2;
export type Verdict = typeof NEW | typeof DUPLICATE | typeof REPLAY;
const RESTORED = 0x80000000;
const ID_MASK = 0x7fffffff;
const KIND = 'dedup/exact';

export class IndexFullError extends Error {}

export class SeenSet {
  private gens: Table64[];
  private readonly perGen: number;
  /** documents recorded (including those forgotten by eviction) */
  recorded = 0;
  evicted = 0;

  constructor(
    readonly maxEntries: number,
    readonly onFull: 'fail' | 'evict',
    readonly fingerprint: Record<string, unknown>,
  ) {
    this.perGen = onFull === 'evict' ? Math.max(1, Math.ceil(maxEntries / 2)) : maxEntries;
    this.gens = [new Table64(this.perGen)];
  }

  /** The memory the index may reach, in bytes. */
  get boundBytes(): number {
    return Table64.bytesAtBound(this.perGen) * (this.onFull === 'evict' ? 2 : 1);
  }
  get size(): number {
    return this.gens.reduce((n, g) => n + g.size, 0);
  }

  /** Looks the hash up and records it when new. `idHash`: a hash of the document id, nonzero in its low
   * 31 bits, or 0 when there is no id (then nothing is taken for a replay). */
  check(lo: number, hi: number, idHash: number): Verdict {
    for (let g = this.gens.length - 1; g >= 0; g--) {
      const v = this.gens[g]!.get(lo, hi);
      if (v === -1) continue;
      return idHash !== 0 && (v & RESTORED) !== 0 && (v & ID_MASK) === (idHash & ID_MASK) ? REPLAY : DUPLICATE;
    }
    let cur = this.gens[this.gens.length - 1]!;
    if (cur.add(lo, hi, idHash & ID_MASK) === -2) {
      if (this.onFull === 'fail') {
        throw new IndexFullError(
          `exact-dedup index is full: maxEntries ${this.maxEntries} distinct texts recorded ` +
            `(~${Math.round(this.boundBytes / 2 ** 20)} MiB). Raise maxEntries, or set onFull: 'evict' to forget ` +
            `the oldest half`,
        );
      }
      const older = this.gens.length > 1 ? this.gens[0]! : undefined;
      if (older) {
        this.evicted += older.size;
        older.clear();
      }
      cur = older ?? new Table64(this.perGen);
      this.gens = [this.gens[this.gens.length - 1]!, cur];
      cur.add(lo, hi, idHash & ID_MASK);
    }
    this.recorded++;
    return NEW;
  }

  describe(): string {
    return (
      `${this.size} distinct texts held (${this.recorded} recorded, ${this.evicted} evicted), bound ` +
      `${this.maxEntries} ` +
      `(~${Math.round(this.boundBytes / 2 ** 20)} MiB)`
    );
  }

  async save(path: string): Promise<void> {
    const arrays: Record<string, Uint32Array> = {};
    this.gens.forEach((g, i) => {
      const a = g.arrays();
      arrays[`g${i}.lo`] = a.lo;
      arrays[`g${i}.hi`] = a.hi;
      arrays[`g${i}.val`] = a.val;
    });
    await saveState(
      path,
      {
        kind: KIND,
        fingerprint: this.fingerprint,
        meta: { gens: this.gens.length, recorded: this.recorded, evicted: this.evicted },
      },
      arrays,
    );
  }

  async load(path: string): Promise<boolean> {
    const s = await loadState(path, KIND, this.fingerprint);
    if (!s) return false;
    const n = Number(s.meta.gens);
    this.gens = [];
    for (let i = 0; i < n; i++) {
      const t = new Table64(this.perGen);
      const val = arrayOf(s, `g${i}.val`, 'u32');
      const lo = arrayOf(s, `g${i}.lo`, 'u32'),
        hi = arrayOf(s, `g${i}.hi`, 'u32');
      for (let j = 0; j < val.length; j++) if (lo[j] !== 0 || hi[j] !== 0) val[j] = (val[j]! | RESTORED) >>> 0;
      t.restore(lo, hi, val);
      this.gens.push(t);
    }
    this.recorded = Number(s.meta.recorded);
    this.evicted = Number(s.meta.evicted);
    return true;
  }
}
