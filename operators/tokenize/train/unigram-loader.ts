// The Unigram trainer (SentencePiece's algorithm, unigram.ts) and its word splitter (spm-normalize.ts),
// loaded when a Unigram model is trained. They are written separately from this trainer; loading them
// by name lets the other types work whatever state they are in, and says clearly when they are missing.
import type { UnigramPiece } from './write-hf.ts';

export interface UnigramTrainer {
  train(words: Iterable<[string, number]>, opts: { vocabSize: number }): { pieces: UnigramPiece[] };
  /** the '▁'-prefixed words of a text, as SentencePiece normalizes and splits it */
  words(text: string): string[];
}

let loaded: Promise<UnigramTrainer> | undefined;

export function loadUnigram(): Promise<UnigramTrainer> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<UnigramTrainer> {
  const missing = (what: string, why: string) =>
    new Error(`--type unigram is not available yet: ${what} (${why}); use --type bpe or wordpiece`);
  let trainer: Record<string, unknown>, norm: Record<string, unknown>;
  try {
    trainer = (await import(new URL('./unigram.ts', import.meta.url).href)) as Record<string, unknown>;
    norm = (await import(new URL('./spm-normalize.ts', import.meta.url).href)) as Record<string, unknown>;
  } catch (err) {
    throw missing('operators/tokenize/train/unigram.ts or spm-normalize.ts did not load', String(err));
  }
  const train = trainer.trainUnigram;
  const normalize = norm.spmNormalize;
  const split = norm.spmWords;
  if (typeof train !== 'function' || typeof normalize !== 'function' || typeof split !== 'function')
    throw missing('trainUnigram, spmNormalize or spmWords is not exported', 'unigram.ts, spm-normalize.ts');
  return {
    train: (words, opts) => (train as UnigramTrainer['train'])(words, opts),
    words: (text) => (split as (s: string) => string[])((normalize as (s: string) => string)(text)),
  };
}
