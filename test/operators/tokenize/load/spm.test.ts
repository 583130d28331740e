// SentencePiece .model files give the ids spm_encode gives, line for line: models trained by Debian's
// spm_train (unigram and BPE, with and without byte fallback, nmt_nfkc and identity normalization,
// Llama's settings) on State of the Union addresses, encoding held-out Moby-Dick, later addresses
// and multilingual, emoji, ligature, full-width and odd-whitespace lines (fixtures/tokenizers/).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../../../operators/tokenize/load/load-tokenizer.ts';
import { SpmNormalizer } from '../../../../operators/tokenize/spm/normalizer.ts';
import { parseSpmModel } from '../../../../operators/tokenize/spm/proto.ts';
import { FIXTURES, SPM_MODELS, heldOut, ids, spmIds } from './references.ts';

describe('SentencePiece .model loader', () => {
  const lines = heldOut();

  for (const model of SPM_MODELS)
    it(`encodes every held-out line as spm_encode does (${model})`, () => {
      const t = loadTokenizer(`${FIXTURES}spm-${model}.model`);
      const want = spmIds(model);
      expect(want).toHaveLength(lines.length);
      const differ = lines.filter((l, k) => ids(t, l) !== want[k]);
      expect(differ).toEqual([]);
    });

  it('reads the trainer and normalizer settings the fixtures were made with', () => {
    const bf = parseSpmModel(readFileSync(`${FIXTURES}spm-bpe-llama.model`), 'bpe-llama');
    expect(bf.trainer).toMatchObject({ modelType: 'bpe', byteFallback: true, unkId: 0, bosId: 1, eosId: 2 });
    expect(bf.normalizer).toMatchObject({ name: 'identity', addDummyPrefix: true, removeExtraWhitespaces: false });
    const nfkc = parseSpmModel(readFileSync(`${FIXTURES}spm-unigram.model`), 'unigram');
    expect(nfkc.normalizer.name).toBe('nmt_nfkc');
    expect(nfkc.normalizer.precompiledCharsmap.length).toBeGreaterThan(1000);
    const t = loadTokenizer(`${FIXTURES}spm-unigram.model`);
    expect([t.bos, t.eos, t.specials.get('</s>')]).toEqual(['<s>', '</s>', 2]);
  });

  it("applies the model's precompiled rules (its charsmap, not an approximation by NFKC)", () => {
    const model = parseSpmModel(readFileSync(`${FIXTURES}spm-unigram.model`), 'unigram');
    const opts = { addDummyPrefix: false, removeExtraWhitespaces: false, escapeWhitespaces: false };
    const rules = new SpmNormalizer({ ...opts, charsmap: model.normalizer.precompiledCharsmap }, 'unigram');
    const none = new SpmNormalizer(opts, 'none');
    expect(rules.normalize('\ufb01ne \uff21\uff22 \u2460 x\ty')).toBe('fine AB 1 x y');
    expect(none.normalize('\ufb01ne \uff21\uff22')).toBe('\ufb01ne \uff21\uff22');
    // where nmt_nfkc and NFKC part (173 of 194,528 code points below U+30000): tab and zero-width space
    // become spaces, DEL goes, the full-width tilde stays; NFKC keeps the first three, makes "~" of it
    expect(rules.normalize('a\tb\u200bc\u007fd\uff5e')).toBe('a b cd\uff5e');
    expect('a\tb\u200bc\u007fd\uff5e'.normalize('NFKC')).toBe('a\tb\u200bc\u007fd~');
  });

  it('says what a file that is no model is', () => {
    expect(() => loadTokenizer(`${FIXTURES}held-out.txt`)).toThrow(/held-out\.txt/);
    expect(() => loadTokenizer(`${FIXTURES}missing.model`)).toThrow(/missing\.model cannot be read/);
  });
});
