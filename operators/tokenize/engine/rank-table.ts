// A tiktoken rank table keyed by byte ranges: token bytes live in one Uint8Array, and an
// open-addressing hash table maps a range of any byte buffer to its rank without building a string.
// BPE looks ranks up for every candidate pair of a piece; as Map<string, number> lookups of sliced
// strings they were most of the cost of a cache miss.

/** FNV-1a over buf[a, b). */
export function bytesHash(buf: Uint8Array, a: number, b: number): number {
  let h = 0x811c9dc5;
  for (let k = a; k < b; k++) h = Math.imul(h ^ buf[k]!, 0x01000193);
  return h;
}

const B64 = new Int8Array(128).fill(-1);
for (const [k, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries())
  B64[c.charCodeAt(0)] = k;

export class RankTable {
  /** one more than the highest rank */
  readonly size: number;
  /** length in bytes of the longest token */
  readonly maxTokenBytes: number;
  private readonly mask: number;
  private readonly slots: Int32Array; // rank + 1, 0 = empty
  private readonly tokenAt: Int32Array; // rank -> offset in `arena`, -1 for ranks not in the table
  private readonly tokenLen: Int32Array;
  private readonly arena: Uint8Array;
  /** rank of each two-byte token by (first << 8 | second), -1 if none: the first round of every
   * merge looks up all adjacent byte pairs, and this answers them without hashing */
  private readonly pairs = new Int32Array(1 << 16).fill(-1);

  /** From the `bpe_ranks` text of a js-tiktoken ranks file: lines `! <first rank> <base64 token>...`. */
  constructor(bpeRanks: string) {
    const lines = bpeRanks
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => l.split(' '));
    let count = 0,
      size = 0,
      b64chars = 0;
    for (const parts of lines) {
      const first = Number.parseInt(parts[1] ?? '', 10);
      if (!Number.isInteger(first))
        throw new Error(`bpe ranks: line "${parts.slice(0, 3).join(' ')}..." has no first rank`);
      count += parts.length - 2;
      size = Math.max(size, first + parts.length - 2);
      for (let k = 2; k < parts.length; k++) b64chars += parts[k]!.length;
    }
    this.size = size;
    let cap = 16;
    while (cap < count * 2) cap *= 2;
    this.mask = cap - 1;
    this.slots = new Int32Array(cap);
    this.tokenAt = new Int32Array(size).fill(-1);
    this.tokenLen = new Int32Array(size);
    this.arena = new Uint8Array(Math.ceil((b64chars * 3) / 4));
    let used = 0,
      longest = 0;
    for (const parts of lines) {
      const first = Number.parseInt(parts[1]!, 10);
      for (let k = 2; k < parts.length; k++) {
        const rank = first + k - 2;
        const end = decodeBase64(parts[k]!, this.arena, used);
        this.tokenAt[rank] = used;
        this.tokenLen[rank] = end - used;
        let slot = bytesHash(this.arena, used, end) & this.mask;
        while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
        this.slots[slot] = rank + 1;
        longest = Math.max(longest, end - used);
        if (end - used === 2) this.pairs[(this.arena[used]! << 8) | this.arena[used + 1]!] = rank;
        used = end;
      }
    }
    this.maxTokenBytes = longest;
  }

  /** Rank of the token whose bytes are buf[a, b), or -1. */
  rank(buf: Uint8Array, a: number, b: number): number {
    const len = b - a;
    if (len === 2) return this.pairs[(buf[a]! << 8) | buf[a + 1]!]!;
    if (len > this.maxTokenBytes) return -1;
    const arena = this.arena;
    for (let slot = bytesHash(buf, a, b) & this.mask; ; slot = (slot + 1) & this.mask) {
      const r = this.slots[slot]! - 1;
      if (r < 0) return -1;
      if (this.tokenLen[r] !== len) continue;
      let at = this.tokenAt[r]!;
      let k = a;
      while (k < b && arena[at] === buf[k]) {
        at++;
        k++;
      }
      if (k === b) return r;
    }
  }

  /** The bytes of the token with rank `r` (a view), or undefined. */
  bytesOf(r: number): Uint8Array | undefined {
    const at = this.tokenAt[r];
    return at === undefined || at < 0 ? undefined : this.arena.subarray(at, at + this.tokenLen[r]!);
  }
}

/** Decodes base64 `s` into out[at...]; returns the end offset. */
function decodeBase64(s: string, out: Uint8Array, at: number): number {
  let bits = 0,
    acc = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 61) break; // '=' padding
    const v = c < 128 ? B64[c]! : -1;
    if (v < 0) throw new Error(`bpe ranks: "${s}" is not base64`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 0xff;
    }
  }
  return at;
}
