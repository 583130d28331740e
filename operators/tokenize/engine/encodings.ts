// The five encodings: their tiktoken names, pre-tokenizer scanners, special tokens, and rank data.
// Rank files are loaded on first use with a synchronous require (a kernel is built synchronously, in
// each worker thread), and kept for the life of the thread.
import { createRequire } from 'node:module';
import { RankTable } from './rank-table.ts';
import { pieceEndCl100k } from './pretokenize-cl100k.ts';
import { pieceEndGpt2 } from './pretokenize-gpt2.ts';
import { pieceEndO200k } from './pretokenize-o200k.ts';

export const ENCODINGS = ['gpt2', 'r50k', 'p50k', 'cl100k', 'o200k'] as const;
export type EncodingName = (typeof ENCODINGS)[number];

/** End (exclusive) of the pre-tokenizer piece of `s` that starts at `i` (< n). */
export type PieceEnd = (s: string, i: number, n: number) => number;

export interface EncodingInfo {
  name: EncodingName;
  /** the name tiktoken and js-tiktoken use */
  tiktoken: 'gpt2' | 'r50k_base' | 'p50k_base' | 'cl100k_base' | 'o200k_base';
  pieceEnd: PieceEnd;
}

export const ENCODING: Record<EncodingName, EncodingInfo> = {
  gpt2: { name: 'gpt2', tiktoken: 'gpt2', pieceEnd: pieceEndGpt2 },
  r50k: { name: 'r50k', tiktoken: 'r50k_base', pieceEnd: pieceEndGpt2 },
  p50k: { name: 'p50k', tiktoken: 'p50k_base', pieceEnd: pieceEndGpt2 },
  cl100k: { name: 'cl100k', tiktoken: 'cl100k_base', pieceEnd: pieceEndCl100k },
  o200k: { name: 'o200k', tiktoken: 'o200k_base', pieceEnd: pieceEndO200k },
};

/** The contents of a js-tiktoken ranks module. */
export interface RanksData {
  pat_str: string;
  special_tokens: Record<string, number>;
  bpe_ranks: string;
}

const require = createRequire(import.meta.url);
const data = new Map<EncodingName, RanksData>();
const tables = new Map<EncodingName, RankTable>();

/** js-tiktoken's rank data for `name` (loaded once per thread). */
export function ranksData(name: EncodingName): RanksData {
  let d = data.get(name);
  if (!d) {
    const mod = require(`js-tiktoken/ranks/${ENCODING[name].tiktoken}`) as { default?: RanksData } & Partial<RanksData>;
    const r = mod.default ?? mod;
    if (typeof r.bpe_ranks !== 'string' || typeof r.pat_str !== 'string' || !r.special_tokens)
      throw new Error(`js-tiktoken/ranks/${ENCODING[name].tiktoken} is not a ranks file (reinstall js-tiktoken)`);
    d = r as RanksData;
    data.set(name, d);
  }
  return d;
}

/** The BPE rank table of `name` (built once per thread). */
export function rankTable(name: EncodingName): RankTable {
  let t = tables.get(name);
  if (!t) {
    t = new RankTable(ranksData(name).bpe_ranks);
    tables.set(name, t);
  }
  return t;
}

/** Id of a special token such as `<|endoftext|>` in `name`; throws naming the ones it has. */
export function specialTokenId(name: EncodingName, token: string): number {
  const specials = ranksData(name).special_tokens;
  const id = specials[token];
  if (id === undefined)
    throw new Error(`encoding ${name} has no special token ${token} (it has ${Object.keys(specials).join(', ')})`);
  return id;
}
