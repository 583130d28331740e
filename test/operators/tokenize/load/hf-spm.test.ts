// The SentencePiece fixtures converted to tokenizer.json as Hugging Face's converters do (Llama-style
// Prepend/Replace normalizers for identity-normalized models, a Precompiled charsmap for nmt_nfkc
// ones; Unigram or BPE with merges from the vocabulary, byte fallback) give spm_encode's ids on every
// held-out line, and Hugging Face's reference (the JS port) agrees except where it approximates:
// its Precompiled is NFKC plus a fixed whitespace list (so zero-width characters become spaces), and
// it has no Unigram byte fallback (an unknown character stays <unk>).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { hfTokenizer } from '../../../../operators/tokenize/hf/hf-tokenizer.ts';
import { FIXTURES, SPM_MODELS, differing, heldOut, ids, reference, spmIds } from './references.ts';
import { spmToHf } from './spm-to-hf.ts';

const ZERO_WIDTH = /[\u200b-\u200d\ufeff]/;

describe('tokenizer.json converted from SentencePiece models', () => {
  const lines = heldOut();

  for (const model of SPM_MODELS)
    it(`gives spm_encode's ids on every held-out line (${model})`, () => {
      const json = spmToHf(readFileSync(`${FIXTURES}spm-${model}.model`), model);
      const t = hfTokenizer(json, model);
      expect(t.bos).toBe('<s>');
      const want = spmIds(model);
      expect(lines.filter((l, k) => ids(t, l) !== want[k])).toEqual([]);
      const ref = reference(json);
      const differ = differing(lines, (l) => ids(t, l), ref);
      if (model === 'unigram-bf')
        // each differing line has a character outside the vocabulary, which the reference leaves <unk>
        for (const l of differ) expect(ZERO_WIDTH.test(l) || ref(l).split(' ').includes('0')).toBe(true);
      else expect(differ.filter((l) => !ZERO_WIDTH.test(l))).toEqual([]);
      if (model === 'bpe-llama' || model === 'unigram-identity') expect(differ).toEqual([]);
    });
});
