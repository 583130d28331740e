// The bounded piece -> token ids cache. Real text repeats its pieces (the prose corpus: 2.5M pieces,
// 47k distinct), so most pieces cost one hash-table probe instead of UTF-8 encoding and a BPE merge.
// Two generations keep it bounded and roughly LRU: new entries go to the young table; when it is
// full, the old one is cleared and the two swap roles; a hit in the old table is copied to the young
// one, so pieces in use survive the swap. Memory is fixed when the cache is made (typed arrays):
// about 2 x maxEntries x 80 bytes; pieces longer than maxPieceLength are never stored.
import { PieceTable, pieceHash } from './piece-table.ts';

export { pieceHash };

export class PieceCache {
  private young: PieceTable;
  private old: PieceTable;
  hits = 0;
  misses = 0;

  /** `maxEntries` pieces per generation, each at most `maxPieceLength` UTF-16 units. */
  constructor(
    readonly maxEntries: number,
    readonly maxPieceLength = 64,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new Error(`PieceCache: maxEntries must be a positive integer, got ${maxEntries}`);
    // typical pieces are 4-8 chars and 1-2 tokens; a table that fills its arenas first is rotated early
    const chars = maxEntries * 12,
      ids = maxEntries * 4;
    this.young = new PieceTable(maxEntries, chars, ids);
    this.old = new PieceTable(maxEntries, chars, ids);
  }

  get size(): number {
    return this.young.count + this.old.count;
  }

  /**
   * Appends the cached ids of s[i, j) (hash h) to `out` at `pos` and returns the new end, or -1 when
   * the piece is not cached. `out` must have room for the piece's ids: 3 x (j - i) is enough.
   */
  lookup(s: string, i: number, j: number, h: number, out: Int32Array, pos: number): number {
    const e = this.young.find(s, i, j, h);
    if (e >= 0) {
      this.hits++;
      return this.young.copyIds(e, out, pos);
    }
    const o = this.old.find(s, i, j, h);
    if (o < 0) {
      this.misses++;
      return -1;
    }
    this.hits++;
    const end = this.old.copyIds(o, out, pos);
    this.store(s, i, j, h, out.subarray(pos, end)); // (store may clear the old table)
    return end;
  }

  /** Remembers s[i, j) -> ids (if the piece is short enough to cache). */
  store(s: string, i: number, j: number, h: number, ids: ArrayLike<number>): void {
    if (j - i > this.maxPieceLength) return;
    if (this.young.add(s, i, j, h, ids)) return;
    const t = this.old;
    t.clear();
    this.old = this.young;
    this.young = t;
    t.add(s, i, j, h, ids);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}
