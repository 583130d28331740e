// The small tokenizers the loader and reference tests train: each type on the same sample of the
// real corpora, written to `dir` (BPE with its tiktoken ranks), and the held-out lines they encode
// (every third line of test/fixtures/tokenizers/held-out.txt: prose, multilingual, emoji, odd spaces).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenizerTrainer, writeTrained } from '../../../../operators/tokenize/train/trainer.ts';
import { proseSample } from '../samples.ts';

export const TYPES = ['bpe', 'wordpiece', 'unigram'] as const;
export type TrainedType = (typeof TYPES)[number];

const HELD_OUT = fileURLToPath(new URL('../../../fixtures/tokenizers/held-out.txt', import.meta.url));
export const heldOutLines = (): string[] =>
  readFileSync(HELD_OUT, 'utf8')
    .split('\n')
    .filter(Boolean)
    .filter((_, k) => k % 3 === 0);

/** Trains `type` (vocabulary 800) and returns its files: tokenizer.json, then for bpe the ranks. */
export async function trainSmall(type: TrainedType, dir: string): Promise<string[]> {
  const t = new TokenizerTrainer({ type, vocabSize: 800 });
  for (const d of proseSample(60_000, 8)) t.addText(d);
  return writeTrained(
    await t.finish(),
    join(dir, `${type}.json`),
    type === 'bpe' ? join(dir, 'bpe.tiktoken') : undefined,
  );
}
