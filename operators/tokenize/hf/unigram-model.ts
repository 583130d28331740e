// Hugging Face's Unigram model: SentencePiece's Viterbi (spm/unigram.ts) over the vocabulary's
// [piece, score] pairs; unknown characters fused into one unknown token, or as <0xXX> byte tokens
// with byte_fallback.
import { byteTokenIds } from '../load/loaded-tokenizer.ts';
import { PieceTrie } from '../spm/piece-trie.ts';
import { viterbi } from '../spm/unigram.ts';
import type { EncodeWord } from './bpe-model.ts';
import { type Json, bool, list } from './json.ts';

export function unigramModel(
  o: Json,
  skip: ReadonlySet<string>,
  where: string,
): {
  encode: EncodeWord;
  vocab: Map<string, number>;
} {
  const entries = list(o, 'vocab', where);
  const vocab = new Map<string, number>();
  const scores = new Float64Array(entries.length);
  const trie = new PieceTrie();
  let minScore = Number.POSITIVE_INFINITY;
  entries.forEach((e, id) => {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'number')
      throw new Error(`${where}.vocab[${id}]: expected [piece, score]`);
    const [piece, score] = e as [string, number];
    scores[id] = score;
    if (!vocab.has(piece)) vocab.set(piece, id);
    minScore = Math.min(minScore, score);
    // special tokens are never matched in text (see tokenize.ts), so they are not candidates here
    if (!skip.has(piece)) trie.add(piece, id);
  });
  const unkId = typeof o.unk_id === 'number' ? o.unk_id : -1;
  if (unkId < 0 || unkId >= entries.length) throw new Error(`${where}.unk_id: expected the id of the unknown token`);
  const bytes = bool(o, 'byte_fallback', false) ? byteTokenIds((p) => vocab.get(p)) : undefined;
  const utf8 = new TextEncoder();
  let ids = new Int32Array(64),
    ends = new Int32Array(64);
  const encode: EncodeWord = (word) => {
    if (ids.length < word.length) {
      ids = new Int32Array(2 * word.length);
      ends = new Int32Array(2 * word.length);
    }
    const count = viterbi({ trie, scores, unkId, minScore, arithmetic: 'hf' }, word, 0, word.length, ids, ends);
    const out: number[] = [];
    let start = 0;
    for (let k = 0; k < count; k++) {
      const id = ids[k]!,
        end = ends[k]!;
      if (id !== unkId) out.push(id);
      else if (bytes) for (const b of utf8.encode(word.slice(start, end))) out.push(bytes[b]!);
      else if (out[out.length - 1] !== unkId) out.push(unkId);
      start = end;
    }
    return out;
  };
  return { encode, vocab };
}
