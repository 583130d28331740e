// A trie of vocabulary pieces over UTF-16 code units, for the longest-match and all-prefix searches
// of Unigram (Viterbi) and WordPiece. Every edge (node, code unit) -> child lives in one
// open-addressing hash table of typed arrays: a step is a multiply, a probe or two and no
// allocation (a Map keyed by node * 65536 + unit measured about half as fast).

export class PieceTrie {
  private mask = 1023;
  private from = new Int32Array(1024).fill(-1); // the edge's parent node, -1: empty slot
  private unit = new Uint16Array(1024);
  private to = new Int32Array(1024);
  private edges = 0;
  private ids = new Int32Array(1024).fill(-1);
  private nodes = 1;

  /** Adds `piece` with `id` (a later add of the same piece keeps the first id, as vocab maps do). */
  add(piece: string, id: number): void {
    let node = 0;
    for (let k = 0; k < piece.length; k++) {
      const c = piece.charCodeAt(k);
      let next = this.step(node, c);
      if (next < 0) {
        next = this.nodes++;
        if (next >= this.ids.length) {
          const grown = new Int32Array(this.ids.length * 2).fill(-1);
          grown.set(this.ids);
          this.ids = grown;
        }
        this.insert(node, c, next);
      }
      node = next;
    }
    if (this.ids[node] === -1) this.ids[node] = id;
  }

  /** The node reached from `node` by code unit c, or -1. */
  step(node: number, c: number): number {
    const from = this.from;
    for (let slot = hash(node, c) & this.mask; ; slot = (slot + 1) & this.mask) {
      const f = from[slot]!;
      if (f < 0) return -1;
      if (f === node && this.unit[slot] === c) return this.to[slot]!;
    }
  }

  /** The id of the piece ending at `node`, or -1. */
  idAt(node: number): number {
    return this.ids[node]!;
  }

  private insert(node: number, c: number, child: number): void {
    if (2 * (this.edges + 1) > this.from.length) this.rehash();
    let slot = hash(node, c) & this.mask;
    while (this.from[slot]! >= 0) slot = (slot + 1) & this.mask;
    this.from[slot] = node;
    this.unit[slot] = c;
    this.to[slot] = child;
    this.edges++;
  }

  private rehash(): void {
    const { from, unit, to } = this;
    const size = from.length * 2;
    this.mask = size - 1;
    this.from = new Int32Array(size).fill(-1);
    this.unit = new Uint16Array(size);
    this.to = new Int32Array(size);
    this.edges = 0;
    for (let s = 0; s < from.length; s++) if (from[s]! >= 0) this.insert(from[s]!, unit[s]!, to[s]!);
  }
}

const hash = (node: number, c: number) => (Math.imul(node, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b)) >>> 7;
