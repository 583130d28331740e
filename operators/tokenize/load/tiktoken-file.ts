// A tiktoken ranks file (`<base64 token> <rank>` per line, as cl100k_base.tiktoken or a flowlm
// trained BPE's ranks): the flowlm engine over these ranks. The file has no pattern: the
// pre-tokenizer is chosen by the file name (cl100k or o200k in it), else GPT-2's. It has no special
// tokens either: <|endoftext|> is taken to be the id after the last rank, as in GPT-2.
import { basename } from 'node:path';
import { ENCODING } from '../engine/encodings.ts';
import { FlowlmEngine } from '../engine/flowlm-engine.ts';
import { RankTable } from '../engine/rank-table.ts';
import type { LoadedTokenizer } from './loaded-tokenizer.ts';

export function tiktokenFile(text: string, source: string, opts: { cacheEntries?: number }): LoadedTokenizer {
  const lines: string[] = [];
  let size = 0;
  text.split('\n').forEach((line, k) => {
    const l = line.trim();
    if (l.length === 0) return;
    const [tok, rank] = l.split(' ');
    const r = Number(rank);
    if (!tok || !Number.isInteger(r)) throw new Error(`${source}:${k + 1}: expected "<base64 token> <rank>"`);
    lines.push(`! ${r} ${tok}`);
    size = Math.max(size, r + 1);
  });
  const name = basename(source);
  const encoding = name.includes('o200k') ? 'o200k' : name.includes('cl100k') ? 'cl100k' : 'gpt2';
  const engine = new FlowlmEngine(
    encoding,
    { cacheEntries: opts.cacheEntries },
    { pieceEnd: ENCODING[encoding].pieceEnd, table: new RankTable(lines.join('\n')) },
  );
  return {
    source,
    kind: `tiktoken ranks (${encoding} pre-tokenizer)`,
    specials: new Map([['<|endoftext|>', size]]),
    eos: '<|endoftext|>',
    addsBos: false,
    encode: (t, out) => engine.encode(t, out),
  };
}
