// tokenizer.json components one at a time, each against Hugging Face's reference (the JS port) on
// real and odd lines, and each shown to change the ids (so a component the loader ignored would fail):
// normalizers and pre-tokenizers over BERT's WordPiece vocabulary, Metaspace's options over a
// SentencePiece unigram model, BPE's continuing_subword_prefix and ignore_merges on a small model.
// Where the JS port departs from HF's Rust tokenizers (its \w and \s are narrower or wider, its
// Punctuation ignores the behaviour, Metaspace "first" and continuing_subword_prefix are missing),
// Rust's behaviour is checked on worked examples (HF's documented split example) instead.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hfTokenizer } from '../../../../operators/tokenize/hf/hf-tokenizer.ts';
import { preTokenizer } from '../../../../operators/tokenize/hf/pre-tokenizers.ts';
import { FIXTURES, bertJson, differing, heldOut, ids, reference } from './references.ts';
import { spmToHf } from './spm-to-hf.ts';

const lines = [
  // every other held-out line (each component builds a tokenizer and a reference): ~160 lines
  ...heldOut().filter((l, k) => k % 2 === 0 && !/[\u200b-\u200d\ufeff]/.test(l)),
  'Café 123,456 and 7.5%: (naïve) ÉCOLE -- e-mail! 中文字 x\u00a0y',
  '  spaced   out\ttabs\nnewlines  ',
];
type Json = Record<string, unknown>;

function agrees(json: Json, name: string): string {
  const t = hfTokenizer(json, name);
  expect(differing(lines, (l) => ids(t, l), reference(json))).toEqual([]);
  return lines.map((l) => ids(t, l)).join('\n');
}

describe('tokenizer.json components', () => {
  const bert = bertJson() as Json;
  const base = { ...bert, normalizer: { type: 'Lowercase' }, pre_tokenizer: { type: 'WhitespaceSplit' } };
  const plain = agrees(base, 'base');

  const normalizers: Record<string, unknown> = {
    NFKC: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] },
    'NFD + StripAccents': {
      type: 'Sequence',
      normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'Lowercase' }],
    },
    Replace: {
      type: 'Sequence',
      normalizers: [{ type: 'Lowercase' }, { type: 'Replace', pattern: { Regex: '[0-9]+' }, content: 'n' }],
    },
    Prepend: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: 'xx' }, { type: 'Lowercase' }] },
    'BertNormalizer (defaults)': bert.normalizer,
    'BertNormalizer (no accents stripped)': {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: false,
      lowercase: true,
    },
    'BertNormalizer (no Chinese padding, cased)': {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: false,
      strip_accents: false,
      lowercase: false,
    },
  };
  for (const [name, normalizer] of Object.entries(normalizers))
    it(`normalizer ${name}`, () => expect(agrees({ ...base, normalizer }, name)).not.toBe(plain));

  it('normalizer Strip', () => {
    // spaces as pieces of their own (each an [UNK]): stripped ones are gone
    const strip = { ...base, pre_tokenizer: { type: 'Split', pattern: { String: ' ' }, behavior: 'Isolated' } };
    const kept = agrees(strip, 'no strip');
    const json = {
      ...strip,
      normalizer: {
        type: 'Sequence',
        normalizers: [{ type: 'Strip', strip_left: true, strip_right: true }, { type: 'Lowercase' }],
      },
    };
    expect(agrees(json, 'strip')).not.toBe(kept);
  });

  const pre: Record<string, unknown> = {
    BertPreTokenizer: { type: 'BertPreTokenizer' },
    'Split (Isolated)': { type: 'Split', pattern: { Regex: '\\s+|[.,;:!?]' }, behavior: 'Isolated', invert: false },
    'Split (Removed, inverted)': { type: 'Split', pattern: { Regex: '\\p{L}+' }, behavior: 'Removed', invert: true },
  };
  for (const [name, pre_tokenizer] of Object.entries(pre))
    it(`pre-tokenizer ${name}`, () => expect(agrees({ ...base, pre_tokenizer }, name)).not.toBe(plain));

  it('pre-tokenizer Whitespace: \\w+|[^\\w\\s]+ with Unicode classes, as the Rust regex crate has them', () => {
    // the reference's \w is ASCII here ("über" -> "ü" "ber"), so it is compared on ASCII lines only
    const json = { ...base, pre_tokenizer: { type: 'Whitespace' } };
    const t = hfTokenizer(json, 'whitespace');
    const plainTokenizer = hfTokenizer(base, 'b');
    const ascii = lines.filter((l) => /^[\x00-\x7f]*$/.test(l));
    expect(ascii.length).toBeGreaterThan(100);
    expect(differing(ascii, (l) => ids(t, l), reference(json))).toEqual([]);
    expect(ascii.map((l) => ids(t, l)).join('\n')).not.toBe(ascii.map((l) => ids(plainTokenizer, l)).join('\n'));
    const words = hfTokenizer({ ...json, model: { ...(bert.model as Json), max_input_chars_per_word: 1 } }, 'unk');
    // one [UNK] per word: "über" and "naïve" are single words; "," and "!" are pieces of their own
    expect(ids(words, 'über, naïve!')).toBe('100 1010 100 999');
  });

  it('split behaviours as HF documents them ("the-final--countdown" split on "-"), for Split and Punctuation', () => {
    const want = {
      Removed: ['the', 'final', 'countdown'],
      Isolated: ['the', '-', 'final', '-', '-', 'countdown'],
      MergedWithPrevious: ['the-', 'final-', '-', 'countdown'],
      MergedWithNext: ['the', '-final', '-', '-countdown'],
      Contiguous: ['the', '-', 'final', '--', 'countdown'],
    };
    for (const [behavior, pieces] of Object.entries(want)) {
      const split = preTokenizer({ type: 'Split', pattern: { String: '-' }, behavior, invert: false }, 'split')!;
      expect(split('the-final--countdown', true)).toEqual(pieces);
      const punct = preTokenizer({ type: 'Punctuation', behavior }, 'punctuation')!;
      expect(punct('the-final--countdown', true)).toEqual(pieces);
    }
  });

  it('pre-tokenizer Digits (runs or single) and WordPiece max_input_chars_per_word', () => {
    // Rust's char::is_numeric is \p{N}; the reference's digits are narrower, so it sees ASCII digits only
    const ascii = lines.filter((l) => /^[0-9]*$/.test(l.replace(/[^\p{N}]/gu, '')));
    const digits = (individual_digits: boolean) => ({
      ...base,
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Digits', individual_digits }],
      },
    });
    const enc = (json: Json) => {
      const t = hfTokenizer(json, 'digits');
      expect(differing(ascii, (l) => ids(t, l), reference(json))).toEqual([]);
      return ascii.map((l) => ids(t, l)).join('\n');
    };
    expect(new Set([enc(base), enc(digits(true)), enc(digits(false))]).size).toBe(3);
    const single = preTokenizer(digits(true).pre_tokenizer, 'd')!;
    expect(single('x12\u2460\u2461', true)).toEqual(['x', '1', '2', '\u2460', '\u2461']);
    const short = { ...base, model: { ...(bert.model as Json), max_input_chars_per_word: 6 } };
    expect(agrees(short, 'max 6')).not.toBe(plain);
  });

  it('Metaspace: prepend_scheme always, first, never; split', () => {
    const spm = spmToHf(readFileSync(`${FIXTURES}spm-unigram.model`), 'unigram') as Json;
    const norm = { type: 'Sequence', normalizers: [{ type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] };
    const meta = (o: Json) => ({
      ...spm,
      normalizer: norm,
      pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', ...o },
    });
    const always = agrees(meta({ prepend_scheme: 'always', split: true }), 'always');
    expect(agrees(meta({ prepend_scheme: 'never', split: true }), 'never')).not.toBe(always);
    // (no unigram piece spans a "▁", so split: false gives the same ids: the pieces show it)
    expect(agrees(meta({ prepend_scheme: 'always', split: false }), 'no split')).toBe(always);
    expect(preTokenizer({ type: 'Metaspace', prepend_scheme: 'always', split: false }, 'm')!('a b', true)).toEqual([
      '\u2581a\u2581b',
    ]);
    // "first": only a piece where the text starts gets "▁" (the reference prepends to every piece)
    const seq = (o: Json) => ({
      type: 'Sequence',
      pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Metaspace', ...o }],
    });
    const first = preTokenizer(seq({ prepend_scheme: 'first' }), 'first')!;
    expect(first('CHAPTER 1.', true)).toEqual(['\u2581CHAPTER', '1.']);
    expect(first(' CHAPTER 1.', true)).toEqual(['CHAPTER', '1.']);
    expect(preTokenizer(seq({ prepend_scheme: 'always' }), 'always')!('CHAPTER 1.', true)).toEqual([
      '\u2581CHAPTER',
      '\u25811.',
    ]);
    expect(preTokenizer({ type: 'Metaspace', prepend_scheme: 'always', split: true }, 'm')!('a b  c', true)).toEqual([
      '\u2581a',
      '\u2581b',
      '\u2581',
      '\u2581c',
    ]);
  });

  it('BPE continuing_subword_prefix and ignore_merges', () => {
    const vocab = {
      '[UNK]': 0,
      l: 1,
      o: 2,
      w: 3,
      e: 4,
      r: 5,
      '##o': 6,
      '##w': 7,
      '##e': 8,
      '##r': 9,
      lo: 10,
      low: 11,
      '##er': 12,
      lower: 13,
      lowe: 14,
      '##l': 15,
    };
    const merges = ['l ##o', 'lo ##w', '##e ##r', 'low ##er'];
    const model = { type: 'BPE', unk_token: '[UNK]', continuing_subword_prefix: '##', fuse_unk: true, vocab, merges };
    const json = {
      version: '1.0',
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: { type: 'WhitespaceSplit' },
      post_processor: null,
      decoder: null,
      model,
    };
    const t = hfTokenizer(json, 'tiny');
    // worked by hand from HF's BPE (the reference has no continuing_subword_prefix): "lower" merges
    // l+##o, lo+##w, ##e+##r, low+##er; "xlow" is [UNK] ##l ##o ##w (no rule merges ##l and ##o)
    expect(ids(t, 'lower low lowe lowr xlow ow')).toBe('13 11 11 8 11 9 0 15 6 7 2 7');
    // ignore_merges: a word that is a token is that token ("lowe"), whatever the merges make of it
    expect(ids(hfTokenizer({ ...json, model: { ...model, ignore_merges: true } }, 'tiny'), 'lower low lowe')).toBe(
      '13 11 14',
    );
  });

  it('non-special added tokens: split out of the raw or the normalized text; single_word, lstrip, rstrip', () => {
    const token = (id: number, content: string, more: Json = {}) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: false,
      ...more,
    });
    const withAdded = (json: Json, added: object[]) => ({
      ...json,
      added_tokens: [...(json.added_tokens as object[]), ...added],
    });
    // lower-case text: the reference matches raw tokens in normalized text (so "Whale" too)
    const text = [...lines, 'the whale and the whale, whales; whale-ship', 'a  whale  b', 'xwhalex whale_ whale'].map(
      (l) => l.toLowerCase(),
    );
    const raw = withAdded(base, [token(30522, 'whale')]);
    const norm = withAdded(bert, [token(30522, 'whale', { normalized: true })]);
    for (const json of [raw, norm]) {
      const t = hfTokenizer(json, 'added');
      expect(differing(text, (l) => ids(t, l), reference(json))).toEqual([]);
      expect(ids(t, 'a whale')).toContain('30522');
    }
    // a raw token is matched before normalization (HF's split on the raw text), a normalized one after
    expect(ids(hfTokenizer(raw, 'raw'), 'Whale')).not.toContain('30522');
    expect(ids(hfTokenizer(norm, 'norm'), 'Whale')).toBe('30522');
    // worked by hand from HF's rules (the reference ignores single_word and the strips)
    const single = hfTokenizer(
      withAdded(base, [token(30522, 'whale', { single_word: true, lstrip: true, rstrip: true })]),
      'single',
    );
    const plainIds = (s: string) => ids(hfTokenizer(base, 'plain'), s);
    expect(ids(single, 'whalemen')).toBe(plainIds('whalemen'));
    expect(ids(single, 'a  whale  b')).toBe(`${plainIds('a')} 30522 ${plainIds('b')}`);
  });
});
