// Real tokenizer.json files give Hugging Face's ids (the JS port of tokenizers as reference) on real
// text: Llama 2's (BPE with byte fallback, Prepend/Replace normalizer, no pre-tokenizer), BERT's
// (BertNormalizer, BertPreTokenizer, WordPiece); GPT-2's in hf-gpt2.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hfTokenizer } from '../../../../operators/tokenize/hf/hf-tokenizer.ts';
import { LLAMA2_JSON, bertJson, differing, ids, realLines, reference } from './references.ts';

// ~90 kB: the reference encodes Llama's pre-tokenizer-less text as one word per line, slowly
const lines = realLines(12_000);

describe('tokenizer.json loader against the reference', () => {
  it("gives Llama 2's ids, <s> as its begin token", () => {
    const json = JSON.parse(readFileSync(LLAMA2_JSON, 'utf8')) as object;
    const t = hfTokenizer(json, 'llama2');
    expect([t.kind, t.bos, t.eos]).toEqual(['tokenizer.json BPE', '<s>', '</s>']);
    expect(differing(lines, (l) => ids(t, l), reference(json))).toEqual([]);
  });

  it("gives BERT's ids ([CLS] and [SEP] from its template)", () => {
    const json = bertJson();
    const t = hfTokenizer(json, 'bert');
    expect([t.kind, t.bos, t.eos]).toEqual(['tokenizer.json WordPiece', '[CLS]', '[SEP]']);
    expect(differing(lines, (l) => ids(t, l), reference(json))).toEqual([]);
  });
});
