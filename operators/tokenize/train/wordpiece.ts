// WordPiece training as the Hugging Face course describes Google's algorithm: words (BERT-normalized
// and split, count-split.ts) start as characters, every character after the first prefixed '##'; each
// step merges the adjacent pair with the highest score count(ab) / (count(a) * count(b)), counts
// weighted by word counts; the merged token is a + b without b's '##'. Ties: highest score, then the
// smallest first token (code-unit order), then the smallest second token. A pair's score rises when
// its parts are merged away elsewhere, so a lazy heap does not apply: each step scans the live pairs
// (pair and symbol counts themselves are updated incrementally, merge-words.ts).
import { MAX_SYMBOLS, MergeWords, pairFirst, pairSecond } from './merge-words.ts';

export const WORDPIECE_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export interface WordPieceTrainOptions {
  /** total vocabulary, special tokens and the alphabet included */
  vocabSize: number;
  /** first in the vocabulary (default BERT's: [PAD] [UNK] [CLS] [SEP] [MASK]) */
  specials?: readonly string[];
  /** the unknown token; must be among the specials (default [UNK]) */
  unkToken?: string;
  /** pairs seen fewer times than this are not merged (default 2) */
  minFrequency?: number;
  /** longer words are left out (the encoder maps them to the unknown token); default 100 */
  maxInputCharsPerWord?: number;
}

export interface WordPieceModel {
  /** the vocabulary in id order: specials, the alphabet, then merged tokens */
  vocab: string[];
  unkToken: string;
  specials: string[];
  maxInputCharsPerWord: number;
  /** merges made (some may give a token already in the vocabulary) */
  merged: number;
}

export function trainWordPiece(words: Iterable<[string, number]>, opts: WordPieceTrainOptions): WordPieceModel {
  const specials = [...(opts.specials ?? WORDPIECE_SPECIALS)];
  const unkToken = opts.unkToken ?? '[UNK]';
  const maxChars = opts.maxInputCharsPerWord ?? 100;
  const minFrequency = opts.minFrequency ?? 2;
  if (!specials.includes(unkToken))
    throw new Error(`wordpiece: the unknown token ${unkToken} is not among the special tokens (${specials.join(' ')})`);
  if (opts.vocabSize > MAX_SYMBOLS) throw new Error(`wordpiece: vocabSize ${opts.vocabSize} is above ${MAX_SYMBOLS}`);

  // words as symbol strings first: the alphabet's ids are given in sorted order
  const split: Array<[string[], number]> = [];
  const alphabet = new Set<string>();
  for (const [word, count] of words) {
    const chars = [...word];
    if (chars.length === 0 || chars.length > maxChars || count <= 0) continue;
    const syms = chars.map((c, k) => (k === 0 ? c : `##${c}`));
    for (const s of syms) alphabet.add(s);
    split.push([syms, count]);
  }
  const vocab = [...specials, ...[...alphabet].filter((s) => !specials.includes(s)).sort()];
  const idOf = new Map(vocab.map((t, id) => [t, id]));
  if (vocab.length > opts.vocabSize)
    throw new Error(
      `wordpiece: vocabSize ${opts.vocabSize} is below the ${vocab.length} special tokens and characters of the corpus`,
    );
  const state = new MergeWords();
  for (const [syms, count] of split)
    state.add(
      syms.map((s) => idOf.get(s)!),
      count,
    );

  let merged = 0;
  while (vocab.length < opts.vocabSize) {
    let best = -1,
      bestScore = -1;
    const sym = state.symCount;
    for (const [key, count] of state.pairCount) {
      if (count < minFrequency) continue;
      const a = pairFirst(key),
        b = pairSecond(key);
      const score = count / (sym[a]! * sym[b]!);
      if (score > bestScore || (score === bestScore && smallerPair(vocab, key, best))) {
        best = key;
        bestScore = score;
      }
    }
    if (best < 0) break;
    const a = pairFirst(best),
      b = pairSecond(best);
    const right = vocab[b]!;
    const name = vocab[a]! + (right.startsWith('##') ? right.slice(2) : right);
    let c = idOf.get(name);
    if (c === undefined) {
      c = vocab.length;
      vocab.push(name);
      idOf.set(name, c);
    }
    state.merge(a, b, c);
    merged++;
  }
  return { vocab, unkToken, specials, maxInputCharsPerWord: maxChars, merged };
}

function smallerPair(vocab: readonly string[], x: number, y: number): boolean {
  const xa = vocab[pairFirst(x)]!,
    ya = vocab[pairFirst(y)]!;
  if (xa !== ya) return xa < ya;
  return vocab[pairSecond(x)]! < vocab[pairSecond(y)]!;
}
