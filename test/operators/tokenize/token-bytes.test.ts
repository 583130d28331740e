// Token byte lengths (bits per byte in evaluation): in every encoding the lengths of a text's tokens
// add up to the text's UTF-8 bytes, on real prose, messy email and many scripts; special tokens count
// 0 bytes; tiktoken's names work too, and an unknown name is refused (or, for the metric, skipped).
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../operators/tokenize/engine/engines.ts';
import {
  ENCODING,
  ENCODINGS,
  rankTable,
  ranksData,
  specialTokenId,
} from '../../../operators/tokenize/engine/encodings.ts';
import { IdBuffer } from '../../../operators/tokenize/engine/id-buffer.ts';
import { tokenByteLengths, tokenBytesFor } from '../../../operators/tokenize/token-bytes.ts';
import { MULTILINGUAL, proseSample, spamSample } from './samples.ts';

describe.each(ENCODINGS)('token byte lengths (%s)', (encoding) => {
  it('the tokens of a text add up to its UTF-8 bytes; special tokens count 0', () => {
    const table = tokenByteLengths(encoding);
    const engine = createEngine('js-tiktoken', encoding);
    const docs = [...proseSample(20_000, 3), ...spamSample(20_000, 3), ...MULTILINGUAL];
    for (const text of docs) {
      const out = new IdBuffer(16);
      engine.encode(text, out);
      let bytes = 0;
      for (const id of out.view()) bytes += table[id]!;
      expect(bytes).toBe(Buffer.byteLength(text.replace(/\p{Cs}/gu, '\ufffd'), 'utf8'));
    }
    engine.dispose();
    const specials = Object.values(ranksData(encoding).special_tokens);
    expect(table.length).toBe(Math.max(rankTable(encoding).size, ...specials.map((id) => id + 1)));
    for (const id of specials) expect(table[id]).toBe(0);
    expect(table[specialTokenId(encoding, '<|endoftext|>')]).toBe(0);
    expect(tokenByteLengths(ENCODING[encoding].tiktoken)).toBe(table); // built once, by either name
  });
});

describe('token byte lengths by name', () => {
  it('refuses an unknown encoding, naming the known ones; tokenBytesFor skips it', () => {
    expect(() => tokenByteLengths('bert')).toThrow(
      /unknown encoding "bert"; use one of gpt2, r50k, p50k, cl100k, o200k/,
    );
    expect(tokenBytesFor('bert')).toBeUndefined();
    expect(tokenBytesFor('gpt2')).toBe(tokenByteLengths('gpt2'));
  });
});
