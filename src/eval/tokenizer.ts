// The tokenizer of a checkpoint's encoding for the harness: js-tiktoken (flowlm's engine gives the same
// ids). Special-token text in a task's data is encoded as ordinary text, never as the special token.
import { getEncoding } from 'js-tiktoken';
import { tiktokenName } from '../nn/checkpoint/load-model.ts';
import type { Tokenizer } from './harness.ts';

export function tokenizerFor(encoding: string): Tokenizer {
  const enc = getEncoding(tiktokenName(encoding));
  const eot = enc.encode('<|endoftext|>', 'all')[0];
  if (eot === undefined) throw new Error(`encoding ${encoding} has no <|endoftext|> token`);
  return {
    encode: (text) => enc.encode(text, [], []),
    decode: (ids) => enc.decode([...ids]),
    eot,
  };
}
