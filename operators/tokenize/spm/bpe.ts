// SentencePiece's BPE segmentation (bpe_model.cc Model::Encode): start from characters, repeatedly
// merge the adjacent pair whose concatenation is a piece with the highest score (the leftmost among
// equal scores), until no pair is a piece. Unlike Hugging Face's BPE, no merge list: the scores are
// the ranks. Pieces of type UNUSED (resegmented by spm) are not in `pieces` here.

interface Pair {
  score: number;
  left: number;
  right: number;
  size: number;
}

/** Before: higher score first, then the leftmost. */
const before = (a: Pair, b: Pair) => a.score > b.score || (a.score === b.score && a.left < b.left);

/**
 * Segments s[i, j) into pieces; writes their ids (-1 for a symbol that is no piece: the caller makes
 * it unknown or bytes) and ends to ids/ends from 0; returns the count.
 */
export function spmBpe(
  pieces: Map<string, number>,
  scores: Float32Array,
  s: string,
  i: number,
  j: number,
  ids: Int32Array,
  ends: Int32Array,
): number {
  // symbols are characters (code points), linked in a list; start[k] < 0 once merged away
  const start: number[] = [],
    end: number[] = [],
    prev: number[] = [],
    next: number[] = [];
  for (let k = i; k < j; ) {
    const c = s.charCodeAt(k);
    const w = c >= 0xd800 && c <= 0xdbff && k + 1 < j ? 2 : 1;
    const x = start.length;
    start.push(k);
    end.push(k + w);
    prev.push(x - 1);
    next.push(x + 1);
    k += w;
  }
  const m = start.length;
  if (m > 0) next[m - 1] = -1;
  const heap: Pair[] = [];
  const maybeAdd = (l: number, r: number) => {
    if (l < 0 || r < 0) return;
    const id = pieces.get(s.slice(start[l]!, end[r]!));
    if (id === undefined) return;
    push(heap, { score: scores[id]!, left: l, right: r, size: end[r]! - start[l]! });
  };
  for (let k = 0; k + 1 < m; k++) maybeAdd(k, k + 1);
  while (heap.length > 0) {
    const top = pop(heap);
    const l = top.left,
      r = top.right;
    // stale: a side was merged away or has grown since the pair was queued
    if (start[l]! < 0 || start[r]! < 0 || end[r]! - start[l]! !== top.size || next[l] !== r) continue;
    end[l] = end[r]!;
    next[l] = next[r]!;
    if (next[r]! >= 0) prev[next[r]!] = l;
    start[r] = -1;
    maybeAdd(prev[l]!, l);
    maybeAdd(l, next[l]!);
  }
  let count = 0;
  for (let k = 0; k >= 0 && k < m; k = next[k]!) {
    ids[count] = pieces.get(s.slice(start[k]!, end[k]!)) ?? -1;
    ends[count++] = end[k]!;
  }
  return count;
}

function push(h: Pair[], p: Pair): void {
  let k = h.length;
  h.push(p);
  while (k > 0) {
    const up = (k - 1) >> 1;
    if (!before(p, h[up]!)) break;
    h[k] = h[up]!;
    k = up;
  }
  h[k] = p;
}

function pop(h: Pair[]): Pair {
  const top = h[0]!;
  const last = h.pop()!;
  const n = h.length;
  if (n === 0) return top;
  let k = 0;
  for (;;) {
    let c = 2 * k + 1;
    if (c >= n) break;
    if (c + 1 < n && before(h[c + 1]!, h[c]!)) c++;
    if (!before(h[c]!, last)) break;
    h[k] = h[c]!;
    k = c;
  }
  h[k] = last;
  return top;
}
