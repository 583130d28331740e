// A binary max-heap of candidate merges (pair key, count) under a caller's order. The trainers use it
// lazily: an entry's count may be stale (counts of a pair only fall after it is pushed), so the caller
// checks a popped entry against the live count and pushes it back with that count when it differs.

export interface PairEntry {
  key: number;
  count: number;
}

export class PairHeap {
  private readonly items: PairEntry[] = [];

  /** `before(a, b)`: a is merged before b */
  constructor(private readonly before: (a: PairEntry, b: PairEntry) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(e: PairEntry): void {
    const h = this.items;
    h.push(e);
    let k = h.length - 1;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!this.before(h[k]!, h[p]!)) break;
      [h[k], h[p]] = [h[p]!, h[k]!];
      k = p;
    }
  }

  pop(): PairEntry | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    h[0] = last;
    for (let k = 0; ; ) {
      const l = 2 * k + 1,
        r = l + 1;
      let m = k;
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
      if (m === k) break;
      [h[k], h[m]] = [h[m]!, h[k]!];
      k = m;
    }
    return top;
  }
}
