// Unigram segmentation: the Viterbi best path over the pieces of a text, as SentencePiece's
// Model::EncodeOptimized (unigram_model.cc) computes it and Hugging Face's Unigram model ports it: a
// character no single piece covers gets an unknown node scored min_score - 10, ties keep the first
// candidate found. The arithmetic differs and decides near-ties (a run like "000" as "0"+"00" or
// "00"+"0"), so each is reproduced: spm keeps path scores as float32 but adds a piece's score to
// one in double (its user-defined branch makes the piece score a double) and compares that double
// with the stored float32, while the unknown node's sum is float32; HF keeps everything in double.
import type { PieceTrie } from './piece-trie.ts';

const UNK_PENALTY = 10;

export interface UnigramVocab {
  trie: PieceTrie;
  /** score of each id */
  scores: Float32Array | Float64Array;
  unkId: number;
  /** the lowest score of a normal piece */
  minScore: number;
  /** SentencePiece's mixed float32/double arithmetic, or Hugging Face's double */
  arithmetic: 'spm' | 'hf';
}

/**
 * Segments s[i, j): writes the piece ids and their ends (offsets in s) to ids/ends from 0 and
 * returns the count. The arrays need room for j - i entries.
 */
export function viterbi(v: UnigramVocab, s: string, i: number, j: number, ids: Int32Array, ends: Int32Array): number {
  const n = j - i;
  const score = new Float64Array(n + 1);
  const from = new Int32Array(n + 1).fill(-1);
  const best = new Int32Array(n + 1).fill(-1);
  const spm = v.arithmetic === 'spm';
  const unkScore = spm ? Math.fround(v.minScore - UNK_PENALTY) : v.minScore - UNK_PENALTY;
  const trie = v.trie,
    scores = v.scores;
  for (let at = 0; at < n; ) {
    const c = s.charCodeAt(i + at);
    const char = c >= 0xd800 && c <= 0xdbff && at + 1 < n ? 2 : 1;
    const here = score[at]!;
    let single = false;
    let node = 0;
    for (let k = at; k < n; k++) {
      node = trie.step(node, s.charCodeAt(i + k));
      if (node < 0) break;
      const id = trie.idAt(node);
      if (id < 0) continue;
      const end = k + 1;
      const cand = scores[id]! + here;
      if (from[end] === -1 || cand > score[end]!) {
        score[end] = spm ? Math.fround(cand) : cand;
        from[end] = at;
        best[end] = id;
      }
      if (end - at === char) single = true;
    }
    if (!single) {
      const end = at + char;
      const cand = spm ? Math.fround(unkScore + here) : unkScore + here;
      if (from[end] === -1 || cand > score[end]!) {
        score[end] = cand;
        from[end] = at;
        best[end] = v.unkId;
      }
    }
    at += char;
  }
  // backtrack, then reverse in place
  let count = 0;
  for (let end = n; end > 0; end = from[end]!) {
    ids[count] = best[end]!;
    ends[count++] = i + end;
  }
  for (let a = 0, b = count - 1; a < b; a++, b--) {
    const t = ids[a]!;
    ids[a] = ids[b]!;
    ids[b] = t;
    const e = ends[a]!;
    ends[a] = ends[b]!;
    ends[b] = e;
  }
  return count;
}
