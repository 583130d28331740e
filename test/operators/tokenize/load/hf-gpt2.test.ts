// GPT-2's tokenizer.json (byte-level BPE) runs on the flowlm engine and gives Hugging Face's ids (the
// JS port as reference) and js-tiktoken's; with a normalizer it takes the general path (merge ranks
// over byte-level pieces), with the same ids. Special-token strings in the text are text here and special tokens to the reference
// (tokenize.ts's policy), so lines holding one are compared with js-tiktoken's encode_ordinary.
import { Tiktoken } from 'js-tiktoken/lite';
import { describe, expect, it } from 'vitest';
import { ranksData } from '../../../../operators/tokenize/engine/encodings.ts';
import { CL100K_SPLIT, O200K_SPLIT } from '../../../../operators/tokenize/hf/fast-path.ts';
import { hfTokenizer } from '../../../../operators/tokenize/hf/hf-tokenizer.ts';
import { preTokenizer } from '../../../../operators/tokenize/hf/pre-tokenizers.ts';
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

  for (const [name, pattern, dont] of [
    ["Llama 3's (cl100k's)", CL100K_SPLIT, ['DON', "'T"]],
    ["GPT-4o's (o200k's)", O200K_SPLIT, ["DON'T"]],
  ] as const)
    it(`takes ${name} Split pattern, (?i:...) groups and all, on the flowlm engine and on the general path`, () => {
      const json = {
        ...(gpt2Json() as Record<string, unknown>),
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
            { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
          ],
        },
      };
      const fast = hfTokenizer(json, 'split-fast');
      expect(fast.kind).toBe('tokenizer.json BPE byte-level (flowlm engine)');
      // an empty normalizer Sequence changes nothing but leaves the fast path: the regex runs
      const general = hfTokenizer({ ...json, normalizer: { type: 'Sequence', normalizers: [] } }, 'split-general');
      expect(general.kind).toBe('tokenizer.json BPE');
      const text = [...lines.filter((l) => !l.includes('<|endoftext|>')), "DON'T you're I'M 12345 CamelCase/path\r\n"];
      expect(differing(text, (l) => ids(fast, l), reference(json))).toEqual([]);
      expect(
        differing(
          text,
          (l) => ids(general, l),
          (l) => ids(fast, l),
        ),
      ).toEqual([]);
      // keeping the matches (Removed, inverted: GPT-4o's file) is isolating them for these patterns
      const [split, bytes] = json.pre_tokenizer.pretokenizers;
      const kept = {
        ...json,
        pre_tokenizer: { type: 'Sequence', pretokenizers: [{ ...split, behavior: 'Removed', invert: true }, bytes] },
      };
      const keptFast = hfTokenizer(kept, 'split-kept');
      expect(keptFast.kind).toBe(fast.kind);
      expect(differing(text, (l) => ids(keptFast, l), reference(kept))).toEqual([]);
      // the contraction is matched whatever its case, as (?i:) makes it (o200k keeps it on the word)
      expect(preTokenizer(json.pre_tokenizer, 'split')!("DON'T", true)).toEqual(dont);
    });

  it("keeps the fast path for merges listing every split of a token (as Llama 3's file does)", () => {
    const json = gpt2Json() as { model: { vocab: Record<string, number>; merges: string[] } };
    const vocab = json.model.vocab;
    const tokens = Object.keys(vocab).sort((a, b) => vocab[a]! - vocab[b]!);
    const merges: string[] = [];
    for (const t of tokens)
      for (let k = 1; k < t.length; k++)
        if (vocab[t.slice(0, k)] !== undefined && vocab[t.slice(k)] !== undefined && t !== '<|endoftext|>')
          merges.push(`${t.slice(0, k)} ${t.slice(k)}`);
    expect(merges.length).toBeGreaterThan(json.model.merges.length);
    const all = { ...json, model: { ...json.model, merges, ignore_merges: true } };
    const t = hfTokenizer(all, 'all-splits');
    expect(t.kind).toBe('tokenizer.json BPE byte-level (flowlm engine)');
    const text = lines.filter((l) => !l.includes('<|endoftext|>'));
    expect(differing(text, (l) => ids(t, l), reference(all))).toEqual([]);
  });
});
