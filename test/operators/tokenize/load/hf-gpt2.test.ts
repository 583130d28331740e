// GPT-2's tokenizer.json (byte-level BPE) runs on the flowlm engine and gives Hugging Face's ids (the
// JS port as reference) and js-tiktoken's; with a normalizer it takes the general path (merge ranks
// over byte-level pieces), with the same ids. Special-token strings in the text are text here and special tokens to the reference
// (tokenize.ts's policy), so lines holding one are compared with js-tiktoken's encode_ordinary.
import { Tiktoken } from 'js-tiktoken/lite';
import { describe, expect, it } from 'vitest';
import { ranksData } from '../../../../operators/tokenize/engine/encodings.ts';
import { hfTokenizer } from '../../../../operators/tokenize/hf/hf-tokenizer.ts';
import { differing, gpt2Json, ids, realLines, reference } from './references.ts';

const lines = realLines(12_000);

describe('byte-level BPE tokenizer.json', () => {
  it("gives GPT-2's ids on the flowlm engine, and on the general path with a normalizer", () => {
    const json = gpt2Json();
    const fast = hfTokenizer(json, 'gpt2');
    expect(fast.kind).toBe('tokenizer.json BPE byte-level (flowlm engine)');
    const general = hfTokenizer({ ...json, normalizer: { type: 'NFC' } }, 'gpt2-nfc');
    expect(general.kind).toBe('tokenizer.json BPE');
    const ref = reference(json);
    const tt = new Tiktoken(ranksData('gpt2'));
    const ordinary = (l: string) => tt.encode(l, [], []).join(' ');
    const special = (l: string) => l.includes('<|endoftext|>');
    expect(
      differing(
        lines.filter((l) => !special(l)),
        (l) => ids(fast, l),
        ref,
      ),
    ).toEqual([]);
    expect(differing(lines.filter(special), (l) => ids(fast, l), ordinary)).toEqual([]);
    // the general path (BPE over merge ranks) with NFC first is the fast path on NFC text
    expect(
      differing(
        lines,
        (l) => ids(general, l),
        (l) => ids(fast, l.normalize('NFC')),
      ),
    ).toEqual([]);
  });
});
