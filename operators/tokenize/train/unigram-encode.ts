// Viterbi encoding with a Unigram model, as spm_encode does it: text normalized (spmNormalize), a
// code-point trie over the normal pieces, the best-scoring segmentation with spm's mix of single and
// double precision (where two paths tie, the piece that starts earliest wins), a character no piece covers becomes the
// unknown piece at the lowest score - 10, and consecutive unknown characters become one unknown token.
import { spmNormalize } from './spm-normalize.ts';
import type { UnigramPiece } from './unigram.ts';

interface Trie {
  /** child of node n for code point c: key n * 0x110000 + c */
  next: Map<number, number>;
  /** piece id ending at node n, or -1 */
  id: number[];
  score: Float32Array;
  unk: number;
  unkScore: number;
}

function buildTrie(pieces: readonly UnigramPiece[]): Trie {
  const next = new Map<number, number>();
  const id = [-1];
  let lowest = Infinity;
  pieces.forEach((p, i) => {
    if (p.kind !== 'normal') return;
    lowest = Math.min(lowest, p.score);
    let node = 0;
    for (const ch of p.piece) {
      const key = node * 0x110000 + ch.codePointAt(0)!;
      let child = next.get(key);
      if (child === undefined) {
        child = id.length;
        id.push(-1);
        next.set(key, child);
      }
      node = child;
    }
    id[node] = i;
  });
  const unk = pieces.findIndex((p) => p.kind === 'unknown');
  if (unk < 0) throw new Error('unigram model: no piece of kind "unknown"; the unknown piece is needed to encode');
  const score = Float32Array.from(pieces, (p) => p.score);
  return { next, id, score, unk, unkScore: Math.fround(lowest - 10) };
}

const tries = new WeakMap<object, Trie>();

/** The model's ids for `text` (normalized here) as spm_encode --output_format=id gives them. */
export function encodeUnigram(model: { pieces: readonly UnigramPiece[] }, text: string): number[] {
  let trie = tries.get(model);
  if (!trie) {
    trie = buildTrie(model.pieces);
    tries.set(model, trie);
  }
  return encodeNormalized(trie, spmNormalize(text));
}

function encodeNormalized(trie: Trie, normalized: string): number[] {
  const cps = Array.from(normalized, (c) => c.codePointAt(0)!);
  const n = cps.length;
  const best = new Float32Array(n + 1);
  const set = new Uint8Array(n + 1);
  const back = new Int32Array(n + 1);
  const backId = new Int32Array(n + 1);
  const offer = (from: number, to: number, id: number, cand: number) => {
    if (!set[to] || cand > best[to]!) {
      best[to] = cand;
      set[to] = 1;
      back[to] = from;
      backId[to] = id;
    }
  };
  for (let i = 0; i < n; i++) {
    let node = 0;
    let single = false;
    for (let j = i; j < n; j++) {
      const child = trie.next.get(node * 0x110000 + cps[j]!);
      if (child === undefined) break;
      node = child;
      const id = trie.id[node]!;
      if (id < 0) continue;
      if (j === i) single = true;
      // spm's optimized encoder adds a piece's score in double precision and compares the sum with the
      // stored single-precision best: that decides between the same pieces in another order (55 5, 5 55)
      offer(i, j + 1, id, best[i]! + trie.score[id]!);
    }
    // ... and the unknown piece's in single precision
    if (!single) offer(i, i + 1, trie.unk, Math.fround(best[i]! + trie.unkScore));
  }
  const ids: number[] = [];
  for (let t = n; t > 0; t = back[t]!) {
    const id = backId[t]!;
    if (id === trie.unk && ids[ids.length - 1] === trie.unk) continue;
    ids.push(id);
  }
  return ids.reverse();
}
