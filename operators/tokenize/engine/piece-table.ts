// One generation of the piece cache: an open-addressing hash table whose keys are ranges of a text
// (compared char by char, never sliced into strings) and whose values are token ids, all held in
// typed arrays. A hit allocates nothing and touches few cache lines: the slot holds the hash (most
// mismatches stop there), the entry's four ints sit together, and a one-token piece keeps its id in
// the entry. A V8 Map keyed by sliced strings measured several times slower here.

/** FNV-1a over the UTF-16 code units of s[i, j). */
export function pieceHash(s: string, i: number, j: number): number {
  let h = 0x811c9dc5;
  for (let k = i; k < j; k++) h = Math.imul(h ^ s.charCodeAt(k), 0x01000193);
  return h;
}

// entry fields, 4 ints per entry: where the key's chars start, its length, the id count, and the id
// itself (one id) or where the ids start in idStore (several)
const KEY_AT = 0,
  KEY_LEN = 1,
  ID_COUNT = 2,
  ID = 3;

export class PieceTable {
  /** entries held */
  count = 0;
  private readonly mask: number;
  private readonly slots: Int32Array; // per slot: hash, entry + 1 (0 = empty)
  private readonly entries: Int32Array;
  private readonly keys: Uint16Array;
  private readonly idStore: Int32Array;
  private charsUsed = 0;
  private idsUsed = 0;

  /** At most `maxEntries` pieces of at most `maxChars` chars and `maxIds` ids (of multi-id pieces) in all. */
  constructor(
    readonly maxEntries: number,
    maxChars: number,
    maxIds: number,
  ) {
    let cap = 16;
    while (cap < maxEntries * 2) cap *= 2; // load factor <= 0.5: short probe sequences
    this.mask = cap - 1;
    this.slots = new Int32Array(2 * cap);
    this.entries = new Int32Array(4 * maxEntries);
    this.keys = new Uint16Array(maxChars);
    this.idStore = new Int32Array(maxIds);
  }

  /** The entry holding s[i, j) (hash h), or -1. */
  find(s: string, i: number, j: number, h: number): number {
    const slots = this.slots,
      entries = this.entries,
      keys = this.keys;
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const e = slots[2 * slot + 1]! - 1;
      if (e < 0) return -1;
      if (slots[2 * slot] !== h) continue;
      const base = 4 * e;
      if (entries[base + KEY_LEN] !== j - i) continue;
      let at = entries[base + KEY_AT]!;
      let k = i;
      while (k < j && keys[at] === s.charCodeAt(k)) {
        at++;
        k++;
      }
      if (k === j) return e;
    }
  }

  /** Appends entry e's ids to `out` at `pos` (room checked by the caller); returns the new end. */
  copyIds(e: number, out: Int32Array, pos: number): number {
    const base = 4 * e;
    const n = this.entries[base + ID_COUNT]!;
    if (n === 1) {
      out[pos] = this.entries[base + ID]!;
      return pos + 1;
    }
    const store = this.idStore;
    for (let at = this.entries[base + ID]!, end = at + n; at < end; ) out[pos++] = store[at++]!;
    return pos;
  }

  /** Adds s[i, j) -> ids (not present yet); false when the table is full (the caller clears it). */
  add(s: string, i: number, j: number, h: number, ids: ArrayLike<number>): boolean {
    const len = j - i,
      n = ids.length;
    if (
      this.count === this.maxEntries ||
      this.charsUsed + len > this.keys.length ||
      (n > 1 && this.idsUsed + n > this.idStore.length)
    )
      return false;
    const e = this.count++;
    const base = 4 * e;
    this.entries[base + KEY_AT] = this.charsUsed;
    this.entries[base + KEY_LEN] = len;
    for (let k = i; k < j; k++) this.keys[this.charsUsed++] = s.charCodeAt(k);
    this.entries[base + ID_COUNT] = n;
    if (n === 1) this.entries[base + ID] = ids[0]!;
    else {
      this.entries[base + ID] = this.idsUsed;
      for (let k = 0; k < n; k++) this.idStore[this.idsUsed++] = ids[k]!;
    }
    let slot = h & this.mask;
    while (this.slots[2 * slot + 1] !== 0) slot = (slot + 1) & this.mask;
    this.slots[2 * slot] = h;
    this.slots[2 * slot + 1] = e + 1;
    return true;
  }

  clear(): void {
    this.slots.fill(0);
    this.count = this.charsUsed = this.idsUsed = 0;
  }
}
