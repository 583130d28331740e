// A trained byte-level BPE used for encoding: its tiktoken ranks in the project's fast engine (GPT-2's
// pre-tokenizer scanner + rank-table BPE) give the ids of a naive encoder applying the merges in order,
// and its tokenizer.json loaded by Hugging Face's tokenizers.js gives them too, on held-out text.
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { BytePairEncoder } from '../../../../operators/tokenize/engine/bpe.ts';
import { pieceEndGpt2 } from '../../../../operators/tokenize/engine/pretokenize-gpt2.ts';
import { RankTable } from '../../../../operators/tokenize/engine/rank-table.ts';
import { trainBpe } from '../../../../operators/tokenize/train/bpe.ts';
import { bpeTokenizerJson } from '../../../../operators/tokenize/train/write-hf.ts';
import { jsTiktokenRanks, tiktokenRanks } from '../../../../operators/tokenize/train/write-tiktoken.ts';
import { CORNER_CASES, MULTILINGUAL, proseSample, spamSample } from '../samples.ts';
import { mergeEncoder, realWords } from './reference.ts';

const model = trainBpe(realWords(200_000, 1), { vocabSize: 2000, specials: ['<|endoftext|>'] });
const heldOut = [...proseSample(40_000, 7), ...spamSample(30_000, 2), ...MULTILINGUAL, ...CORNER_CASES];

const bpe = new BytePairEncoder(new RankTable(jsTiktokenRanks(tiktokenRanks(model))));

function fastEncode(text: string): number[] {
  const out = new Int32Array(3 * text.length + 16);
  let pos = 0;
  for (let i = 0; i < text.length; ) {
    const j = pieceEndGpt2(text, i, text.length);
    pos = bpe.encode(text, i, j, out, pos);
    i = j;
  }
  return Array.from(out.subarray(0, pos));
}

describe('a trained byte-level BPE', () => {
  it('has ranks that line up with its merges (one token per id, written base64 + rank)', () => {
    expect(model.merges.length).toBeGreaterThan(1500);
    const lines = tiktokenRanks(model).trimEnd().split('\n');
    expect(lines).toHaveLength(model.tokens.length);
    lines.forEach((l, rank) => {
      const [b64, r] = l.split(' ');
      expect(Number(r)).toBe(rank);
      expect(Buffer.from(b64!, 'base64')).toEqual(Buffer.from(model.tokens[rank]!));
    });
  });

  it("encodes held-out text with the fast engine's ranks as the merges applied in order do", () => {
    const naive = mergeEncoder(model.merges);
    let tokens = 0,
      bytes = 0;
    for (const text of heldOut) {
      const want: number[] = [];
      for (let i = 0; i < text.length; ) {
        const j = pieceEndGpt2(text, i, text.length);
        want.push(...naive(text.slice(i, j)));
        i = j;
      }
      expect(fastEncode(text)).toEqual(want);
      tokens += want.length;
      bytes += Buffer.byteLength(text);
    }
    expect(bytes / tokens).toBeGreaterThan(2.5); // the merges compress: not bytes one by one
  });

  it("encodes held-out text through its tokenizer.json in Hugging Face's tokenizers.js the same way", () => {
    const hf = new Tokenizer(bpeTokenizerJson(model), { clean_up_tokenization_spaces: false });
    for (const text of heldOut.slice(0, 12)) {
      const ids = hf.encode(text).ids;
      expect(ids).toEqual(fastEncode(text));
      if (Buffer.from(text).toString() === text) expect(hf.decode(ids)).toBe(text);
    }
    expect(hf.encode('<|endoftext|>').ids).toEqual([model.tokens.length]);
  });
});
