// A byte-level BPE as tiktoken's rank file (the `.tiktoken` format OpenAI publishes and
// tiktoken.load.load_tiktoken_bpe reads): one line per token, base64 of its bytes, a space, its rank.
// The rank is the token's id, so merging the lowest-ranked adjacent pair reproduces the merge order.
// Special tokens are not in the file (tiktoken takes them separately): they follow the last rank.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../../../src/runtime/files.ts';
import type { BpeModel } from './bpe.ts';

export function tiktokenRanks(model: BpeModel): string {
  let out = '';
  model.tokens.forEach((t, rank) => {
    out += `${Buffer.from(t).toString('base64')} ${rank}\n`;
  });
  return out;
}

/** The same ranks in js-tiktoken's `bpe_ranks` layout (`! <first rank> <base64>...`), which the
 * engine's RankTable reads. */
export function jsTiktokenRanks(tiktoken: string): string {
  const toks: string[] = [];
  for (const line of tiktoken.split('\n')) {
    if (!line) continue;
    const [b64, rank] = line.split(' ');
    if (Number(rank) !== toks.length)
      throw new Error(`tiktoken ranks: line ${toks.length + 1} has rank ${rank}, expected ${toks.length}`);
    toks.push(b64!);
  }
  return `! 0 ${toks.join(' ')}`;
}

export function writeTiktoken(path: string, model: BpeModel): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileAtomic(resolve(path), tiktokenRanks(model));
}
