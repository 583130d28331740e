// Byte-level BPE over a tiktoken rank table: a piece's UTF-8 bytes are merged pairwise, lowest rank
// first (leftmost among equal ranks), until no adjacent pair forms a token. That is the rule tiktoken
// applies, so the ids are the same. Short pieces (nearly all) use tiktoken's simple quadratic loop
// over reused scratch arrays; long ones (a run of thousands of letters in a hex dump or a DNA
// sequence) a heap of candidate pairs and a linked list of parts, O(m log m): the quadratic loop
// took 0.25 s for 20 kB of letters and would take minutes for a megabyte.
import type { RankTable } from './rank-table.ts';
import { heapPop, heapPush } from './number-heap.ts';

export class BytePairEncoder {
  private bytes = new Uint8Array(1024);
  private readonly starts: Int32Array;
  private readonly pairs: Int32Array;

  /** `longPiece`: pieces of more bytes take the heap path (tests lower it to check both agree). */
  constructor(
    readonly table: RankTable,
    readonly longPiece = 256,
  ) {
    this.starts = new Int32Array(longPiece + 1);
    this.pairs = new Int32Array(longPiece);
  }

  /** Appends the ids of s[i, j) (its UTF-8 bytes; a lone surrogate is U+FFFD) to out at pos; returns the new end. */
  encode(s: string, i: number, j: number, out: Int32Array, pos: number): number {
    const need = 3 * (j - i);
    // the scratch grows up to 64 KiB; a longer piece gets a buffer of its own, dropped after use
    if (need > this.bytes.length && need <= 1 << 16) this.bytes = new Uint8Array(need);
    const b = need <= this.bytes.length ? this.bytes : new Uint8Array(need);
    return this.encodeBytes(b, utf8Into(s, i, j, b), out, pos);
  }

  private encodeBytes(b: Uint8Array, m: number, out: Int32Array, pos: number): number {
    const table = this.table;
    const whole = table.rank(b, 0, m);
    if (whole >= 0) {
      out[pos++] = whole;
      return pos;
    }
    if (m > this.longPiece) return mergeLong(table, b, m, out, pos);
    // part k spans b[starts[k], starts[k+1]); pairs[k] ranks parts k and k+1 merged (NONE: no token)
    const starts = this.starts,
      pairs = this.pairs;
    for (let k = 0; k <= m; k++) starts[k] = k;
    let parts = m;
    for (let k = 0; k + 1 < parts; k++) pairs[k] = rankOr(table, b, k, k + 2);
    while (parts > 1) {
      let best = 0;
      for (let k = 1; k + 1 < parts; k++) if (pairs[k]! < pairs[best]!) best = k;
      if (pairs[best] === NONE) break;
      // merge parts best and best+1: drop boundary best+1 and pair best, then re-rank the neighbours
      starts.copyWithin(best + 1, best + 2, parts + 1);
      pairs.copyWithin(best, best + 1, parts - 1);
      parts--;
      if (best + 1 < parts) pairs[best] = rankOr(table, b, starts[best]!, starts[best + 2]!);
      if (best > 0) pairs[best - 1] = rankOr(table, b, starts[best - 1]!, starts[best + 1]!);
    }
    for (let k = 0; k < parts; k++) {
      const r = table.rank(b, starts[k]!, starts[k + 1]!);
      if (r < 0)
        throw new Error(
          `bpe: byte string of length ${starts[k + 1]! - starts[k]!} has no rank; the rank table lacks single bytes`,
        );
      out[pos++] = r;
    }
    return pos;
  }
}

const NONE = 0x7fffffff;
const rankOr = (t: RankTable, b: Uint8Array, x: number, y: number) => {
  const r = t.rank(b, x, y);
  return r < 0 ? NONE : r;
};

/**
 * The same merges as the loop above for b[0, m), in O(m log m). Parts are named by their first byte
 * and linked through `next`; the heap holds candidate merges keyed rank * (m + 1) + start, so the
 * minimum is the lowest rank, leftmost among equals. An entry whose part has gone or whose pair has
 * changed rank since it was pushed is stale and skipped.
 */
function mergeLong(table: RankTable, b: Uint8Array, m: number, out: Int32Array, pos: number): number {
  const next = new Int32Array(m);
  const prev = new Int32Array(m);
  const pair = new Int32Array(m); // rank of part k merged with the next one, NONE if none (or part gone)
  const heap: number[] = [];
  const span = m + 1;
  for (let k = 0; k < m; k++) {
    next[k] = k + 1;
    prev[k] = k - 1;
  }
  for (let k = 0; k < m; k++) {
    pair[k] = k + 1 < m ? rankOr(table, b, k, k + 2) : NONE;
    if (pair[k] !== NONE) heapPush(heap, pair[k]! * span + k);
  }
  while (heap.length > 0) {
    const key = heapPop(heap);
    const k = key % span;
    const r = (key - k) / span;
    if (pair[k] !== r) continue; // stale
    const gone = next[k]!;
    const after = gone < m ? next[gone]! : m;
    next[k] = after;
    if (after < m) prev[after] = k;
    pair[gone] = NONE;
    pair[k] = after < m ? rankOr(table, b, k, next[after]!) : NONE;
    if (pair[k] !== NONE) heapPush(heap, pair[k]! * span + k);
    const p = prev[k]!;
    if (p >= 0) {
      pair[p] = rankOr(table, b, p, after);
      if (pair[p] !== NONE) heapPush(heap, pair[p]! * span + p);
    }
  }
  for (let k = 0; k < m; k = next[k]!) {
    const r = table.rank(b, k, next[k]!);
    if (r < 0)
      throw new Error(`bpe: byte string of length ${next[k]! - k} has no rank; the rank table lacks single bytes`);
    out[pos++] = r;
  }
  return pos;
}

/** Writes the UTF-8 bytes of s[i, j) to out (room for 3 per unit); returns the byte count. */
export function utf8Into(s: string, i: number, j: number, out: Uint8Array): number {
  let n = 0;
  for (let k = i; k < j; k++) {
    let c = s.charCodeAt(k);
    if (c < 0x80) {
      out[n++] = c;
      continue;
    }
    if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
      continue;
    }
    if ((c & 0xf800) === 0xd800) {
      const d = k + 1 < j ? s.charCodeAt(k + 1) : 0;
      if (c <= 0xdbff && (d & 0xfc00) === 0xdc00) {
        c = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        k++;
        out[n++] = 0xf0 | (c >> 18);
        out[n++] = 0x80 | ((c >> 12) & 63);
        out[n++] = 0x80 | ((c >> 6) & 63);
        out[n++] = 0x80 | (c & 63);
        continue;
      }
      c = 0xfffd;
    }
    out[n++] = 0xe0 | (c >> 12);
    out[n++] = 0x80 | ((c >> 6) & 63);
    out[n++] = 0x80 | (c & 63);
  }
  return n;
}
