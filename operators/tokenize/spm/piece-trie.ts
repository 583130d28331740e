// A trie of vocabulary pieces over UTF-16 code units, for the longest-match and all-prefix searches
// of Unigram (Viterbi) and WordPiece. One Map keyed by (node, code unit) holds every edge: compact,
// and fast enough behind the per-word cache the encoders keep.

export class PieceTrie {
  private readonly edges = new Map<number, number>();
  private ids = new Int32Array(1024).fill(-1);
  private nodes = 1;

  /** Adds `piece` with `id` (a later add of the same piece keeps the first id, as vocab maps do). */
  add(piece: string, id: number): void {
    let node = 0;
    for (let k = 0; k < piece.length; k++) {
      const key = node * 65536 + piece.charCodeAt(k);
      let next = this.edges.get(key);
      if (next === undefined) {
        next = this.nodes++;
        this.edges.set(key, next);
        if (next >= this.ids.length) {
          const grown = new Int32Array(this.ids.length * 2).fill(-1);
          grown.set(this.ids);
          this.ids = grown;
        }
      }
      node = next;
    }
    if (this.ids[node] === -1) this.ids[node] = id;
  }

  /** The node reached from `node` by code unit c, or -1. */
  step(node: number, c: number): number {
    return this.edges.get(node * 65536 + c) ?? -1;
  }

  /** The id of the piece ending at `node`, or -1. */
  idAt(node: number): number {
    return this.ids[node]!;
  }
}
