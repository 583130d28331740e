// The pre-tokenizer each trainer counts pieces with:
//   bpe        GPT-2's pattern (the engine's scanner): merges never cross these pieces, as in GPT-2
//   wordpiece  BERT's normalizer (optional lower case, accents stripped) and whitespace+punctuation split
//   unigram    SentencePiece's words of each line: spm's normalization (nmt_nfkc, spm-normalize.ts), each
//              word prefixed by '▁' (U+2581)
import { pieceEndGpt2 } from '../engine/pretokenize-gpt2.ts';
import { bertNormalize, bertWords } from './bert-normalize.ts';
import { spmNormalize, spmWords } from './spm-normalize.ts';

export type TokenizerType = 'bpe' | 'wordpiece' | 'unigram';
export type Splitter = (text: string, emit: (piece: string) => void) => void;

export interface SplitOptions {
  /** wordpiece: lower-case (and strip accents) before splitting */
  lowercase?: boolean;
}

export const gpt2Pieces: Splitter = (text, emit) => {
  const n = text.length;
  for (let i = 0; i < n; ) {
    const j = pieceEndGpt2(text, i, n);
    emit(text.slice(i, j));
    i = j;
  }
};

/** SentencePiece's words of each line of `text` (spm_train reads lines); `lineEnd` gets the last word
 * of each line that has one. */
export function spmLineWords(text: string, emit: (word: string) => void, lineEnd?: (word: string) => void): void {
  for (const line of text.split('\n')) {
    const words = spmWords(spmNormalize(line));
    for (const w of words) emit(w);
    if (lineEnd && words.length > 0) lineEnd(words[words.length - 1]!);
  }
}

export function splitterFor(type: TokenizerType, opts: SplitOptions = {}): Splitter {
  switch (type) {
    case 'bpe':
      return gpt2Pieces;
    case 'wordpiece': {
      const lowercase = opts.lowercase ?? true;
      return (text, emit) => bertWords(bertNormalize(text, { lowercase }), emit);
    }
    case 'unigram':
      return (text, emit) => spmLineWords(text, emit);
  }
}
