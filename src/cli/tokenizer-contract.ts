// What `flowlm tokenizer train` asks of the tokenizer-training pipeline. src/ never imports pipelines/,
// so the builder (pipelines/tokenizer-train.ts) is loaded by path at run time, as prep's is
// (prep-contract.ts); this file is the contract both sides compile against.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PipelineSpecInput } from '../graph/spec.ts';

export const TOKENIZER_TYPES = ['bpe', 'wordpiece', 'unigram'] as const;
export type TokenizerTypeName = (typeof TOKENIZER_TYPES)[number];

export interface TokenizerTrainOptions {
  /** files or globs; none: the embedded default corpus */
  inputs?: string[];
  type: TokenizerTypeName;
  vocabSize: number;
  /** the tokenizer.json to write */
  out: string;
  /** bpe: tiktoken ranks file to write as well */
  tiktoken?: string;
  /** bound on the piece counts held in memory (beyond it they spill to disk) */
  maxMemoryMB?: number;
  specials?: string[];
  /** wordpiece: lower-case and strip accents (default true) */
  lowercase?: boolean;
  minFrequency?: number;
}

/** The id of the training node, whose stats counters carry the run's figures (bytes, vocab, merges,
 * distinct, spills, countMs, trainMs). */
export const TOKENIZER_TRAIN_NODE = 'train';

export type TokenizerTrainBuilder = (options: TokenizerTrainOptions) => PipelineSpecInput;

export const TOKENIZER_PIPELINE = fileURLToPath(new URL('../../pipelines/tokenizer-train.ts', import.meta.url));

/** The `tokenizerTrainSpec` builder exported by `file`. */
export async function loadTokenizerTrainBuilder(file = TOKENIZER_PIPELINE): Promise<TokenizerTrainBuilder> {
  if (!existsSync(file))
    throw new Error(`the tokenizer training pipeline ${file} is missing: the package is incomplete (reinstall it)`);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const build = mod.tokenizerTrainSpec;
  if (typeof build !== 'function') throw new Error(`${file} exports no tokenizerTrainSpec(options) function`);
  return build as TokenizerTrainBuilder;
}
