// A trie over code points for counting substrings and finding pieces, with numeric keys (no string is
// built per substring). Children live in Maps keyed node * 0x110000 + code point, spread over shards by
// node id because one Map holds at most 2^24 entries; nodes are numbered from 1 (0 is the root).
const SHARDS = 64;
const CP = 0x110000;

export class CodeTrie {
  private readonly shards = Array.from({ length: SHARDS }, () => new Map<number, number>());
  /** per node: the code point leading to it and its parent, to spell it */
  private cp: number[] = [0];
  private parent: number[] = [-1];

  get size(): number {
    return this.cp.length;
  }

  /** The child of `node` by code point `c`, or -1. */
  child(node: number, c: number): number {
    return this.shards[node % SHARDS]!.get(node * CP + c) ?? -1;
  }

  /** The child of `node` by `c`, made if missing. */
  add(node: number, c: number): number {
    const shard = this.shards[node % SHARDS]!;
    const key = node * CP + c;
    const hit = shard.get(key);
    if (hit !== undefined) return hit;
    const id = this.cp.length;
    shard.set(key, id);
    this.cp.push(c);
    this.parent.push(node);
    return id;
  }

  /** The string leading to `node`. */
  spell(node: number): string {
    const cps: number[] = [];
    for (let n = node; n > 0; n = this.parent[n]!) cps.push(this.cp[n]!);
    return String.fromCodePoint(...cps.reverse());
  }
}
