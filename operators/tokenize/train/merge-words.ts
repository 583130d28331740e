// The state both merge trainers (byte-level BPE, WordPiece) update incrementally: every distinct
// word as a sequence of symbol ids with its count, the weighted count of every adjacent pair, the
// words each pair occurs in, and the weighted count of every symbol. Merging a pair rewrites only the
// words that hold it and changes only the counts of pairs next to it (as Hugging Face tokenizers'
// trainer does), so a merge costs what its occurrences cost, not a pass over the corpus.

/** Ids are below 2^20, so a pair is one number: a * 2^20 + b (exact in a double). */
export const MAX_SYMBOLS = 1 << 20;
export const pairKey = (a: number, b: number): number => a * MAX_SYMBOLS + b;
export const pairFirst = (k: number): number => Math.floor(k / MAX_SYMBOLS);
export const pairSecond = (k: number): number => k % MAX_SYMBOLS;

export class MergeWords {
  readonly syms: Int32Array[] = [];
  readonly lens: number[] = [];
  readonly counts: number[] = [];
  readonly pairCount = new Map<number, number>();
  /** words holding each pair; may list a word twice or a word that lost the pair (skipped when merging) */
  readonly where = new Map<number, number[]>();
  symCount = new Float64Array(1024);
  private seen = new Int32Array(0);
  private stamp = 0;

  /** `words`: symbol ids of each distinct word, and its count. */
  add(ids: ArrayLike<number>, count: number): void {
    const w = this.syms.length;
    const s = Int32Array.from(ids);
    this.syms.push(s);
    this.lens.push(s.length);
    this.counts.push(count);
    for (let k = 0; k < s.length; k++) this.addSym(s[k]!, count);
    for (let k = 0; k + 1 < s.length; k++) this.bump(pairKey(s[k]!, s[k + 1]!), count, w);
  }

  private addSym(id: number, n: number): void {
    if (id >= this.symCount.length) {
      const next = new Float64Array(Math.max(id + 1, this.symCount.length * 2));
      next.set(this.symCount);
      this.symCount = next;
    }
    this.symCount[id]! += n;
  }

  private bump(key: number, n: number, w: number): void {
    this.pairCount.set(key, (this.pairCount.get(key) ?? 0) + n);
    if (n > 0) {
      const list = this.where.get(key);
      if (!list) this.where.set(key, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
    }
  }

  /** Replaces every occurrence of (a, b) by c, left to right without overlap in each word; returns the
   * keys of the pairs the merge created (pairs with c), whose counts only the merge set. */
  merge(a: number, b: number, c: number): number[] {
    const key = pairKey(a, b);
    const words = this.where.get(key) ?? [];
    if (this.seen.length < this.syms.length) this.seen = new Int32Array(this.syms.length);
    const stamp = ++this.stamp;
    const created = new Set<number>();
    for (const w of words) {
      if (this.seen[w] === stamp) continue;
      this.seen[w] = stamp;
      const s = this.syms[w]!;
      const n = this.lens[w]!;
      const f = this.counts[w]!;
      let out = 0;
      for (let i = 0; i < n; ) {
        if (i + 1 < n && s[i] === a && s[i + 1] === b) {
          if (out > 0) {
            const prev = s[out - 1]!;
            this.bump(pairKey(prev, a), -f, w);
            this.bump(pairKey(prev, c), f, w);
            created.add(pairKey(prev, c));
          }
          if (i + 2 < n) {
            const next = s[i + 2]!;
            this.bump(pairKey(b, next), -f, w);
            this.bump(pairKey(c, next), f, w);
            created.add(pairKey(c, next));
          }
          this.addSym(a, -f);
          this.addSym(b, -f);
          this.addSym(c, f);
          s[out++] = c;
          i += 2;
        } else s[out++] = s[i++]!;
      }
      this.lens[w] = out;
    }
    this.pairCount.delete(key);
    this.where.delete(key);
    // a pair of c met with a later occurrence of the merged pair can drop to zero again
    const live: number[] = [];
    for (const k of created) if ((this.pairCount.get(k) ?? 0) > 0) live.push(k);
    return live;
  }

  /** The symbols of word w (a view). */
  word(w: number): Int32Array {
    return this.syms[w]!.subarray(0, this.lens[w]!);
  }
}
