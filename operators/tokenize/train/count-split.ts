// The pre-tokenizer each trainer counts pieces with:
//   bpe        GPT-2's pattern (the engine's scanner): merges never cross these pieces, as in GPT-2
//   wordpiece  BERT's normalizer (optional lower case, accents stripped) and whitespace+punctuation split
//   unigram    SentencePiece's words: whitespace runs collapsed, each word prefixed by '▁' (U+2581)
import { pieceEndGpt2 } from '../engine/pretokenize-gpt2.ts';
import { bertNormalize, bertWords } from './bert-normalize.ts';

export type TokenizerType = 'bpe' | 'wordpiece' | 'unigram';
export type Splitter = (text: string, emit: (piece: string) => void) => void;

export interface SplitOptions {
  /** wordpiece: lower-case (and strip accents) before splitting */
  lowercase?: boolean;
  /** unigram: a function of the Unigram trainer that turns a line into its words */
  unigramWords?: (text: string) => Iterable<string>;
}

export const gpt2Pieces: Splitter = (text, emit) => {
  const n = text.length;
  for (let i = 0; i < n; ) {
    const j = pieceEndGpt2(text, i, n);
    emit(text.slice(i, j));
    i = j;
  }
};

const SPACES = /\s+/u;

/** SentencePiece-style words when the Unigram trainer gives no splitter of its own. */
export const spaceWords: Splitter = (text, emit) => {
  for (const w of text.split(SPACES)) if (w) emit(`\u2581${w}`);
};

export function splitterFor(type: TokenizerType, opts: SplitOptions = {}): Splitter {
  switch (type) {
    case 'bpe':
      return gpt2Pieces;
    case 'wordpiece': {
      const lowercase = opts.lowercase ?? true;
      return (text, emit) => bertWords(bertNormalize(text, { lowercase }), emit);
    }
    case 'unigram': {
      const words = opts.unigramWords;
      if (!words) return spaceWords;
      return (text, emit) => {
        for (const w of words(text)) emit(w);
      };
    }
  }
}
