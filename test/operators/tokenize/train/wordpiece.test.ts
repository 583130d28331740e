// WordPiece training against a reference that recounts every pair and symbol before each merge, and
// the tokenizer.json it writes loaded by Hugging Face's tokenizers.js: its tokens are BERT's greedy
// longest-match encoding of our BERT normalizer and pre-tokenizer's words, on held-out text.
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { splitterFor } from '../../../../operators/tokenize/train/count-split.ts';
import { trainWordPiece, WORDPIECE_SPECIALS } from '../../../../operators/tokenize/train/wordpiece.ts';
import { wordPieceTokenizerJson } from '../../../../operators/tokenize/train/write-hf.ts';
import { MULTILINGUAL, proseSample } from '../samples.ts';
import { greedyWordPiece, referenceWordPiece } from './reference-wordpiece.ts';

function words(docs: string[], lowercase: boolean): Array<[string, number]> {
  const m = new Map<string, number>();
  const split = splitterFor('wordpiece', { lowercase });
  for (const d of docs) split(d, (w) => m.set(w, (m.get(w) ?? 0) + 1));
  return [...m];
}

describe('trainWordPiece', () => {
  it('makes the vocabulary of the reference trainer on real text', () => {
    const ws = words(proseSample(25_000, 4), true);
    const specials = [...WORDPIECE_SPECIALS];
    const base = new Set(ws.flatMap(([w]) => [...w].map((c, k) => (k ? `##${c}` : c)))).size + specials.length;
    const vocabSize = base + 120;
    const got = trainWordPiece(ws, { vocabSize, specials });
    expect(got.vocab).toHaveLength(vocabSize);
    expect(got.vocab).toEqual(referenceWordPiece(ws, vocabSize, specials));
    expect(got.vocab.slice(0, 5)).toEqual(specials);
  });

  it('keeps case and accents with lowercase off', () => {
    const docs = ['Café CAFÉ café Naïve NAÏVE'];
    const lower = trainWordPiece(words(docs, true), { vocabSize: 40 }).vocab;
    const cased = trainWordPiece(words(docs, false), { vocabSize: 40 }).vocab;
    expect(lower).not.toContain('C');
    expect(lower).not.toContain('##é');
    expect(cased).toContain('C');
    expect(cased).toContain('##É');
  });

  it('merges no pair seen fewer than minFrequency times, and checks its unknown token', () => {
    const ws: Array<[string, number]> = [
      ['ab', 1],
      ['cd', 3],
    ];
    expect(trainWordPiece(ws, { vocabSize: 20, minFrequency: 1 }).vocab).toContain('ab');
    expect(trainWordPiece(ws, { vocabSize: 20, minFrequency: 2 }).vocab).not.toContain('ab');
    expect(trainWordPiece(ws, { vocabSize: 20, minFrequency: 4 }).merged).toBe(0);
    expect(() => trainWordPiece(ws, { vocabSize: 20, unkToken: '<unk>' })).toThrow(/not among the special tokens/);
  });

  it("writes a tokenizer.json that tokenizers.js encodes as BERT's greedy longest match", () => {
    for (const lowercase of [true, false]) {
      const model = trainWordPiece(words(proseSample(120_000, 1), lowercase), { vocabSize: 1500 });
      const hf = new Tokenizer(wordPieceTokenizerJson(model, lowercase), {});
      const vocab = new Set(model.vocab);
      const split = splitterFor('wordpiece', { lowercase });
      let unknown = 0,
        total = 0;
      for (const text of [...proseSample(8_000, 9), ...MULTILINGUAL]) {
        const want: string[] = [];
        split(text, (w) => want.push(...greedyWordPiece(w, vocab, '[UNK]')));
        const got = hf.encode(text).tokens;
        expect(got).toEqual(want);
        unknown += want.filter((t) => t === '[UNK]').length;
        total += want.length;
      }
      expect(unknown / total).toBeLessThan(0.05);
    }
  });
});
