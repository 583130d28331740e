// The three engines give identical ids on text holding Unicode whitespace and format characters, in
// every encoding. JavaScript's `\s` (js-tiktoken, the reference) has U+FEFF and lacks U+0085; Rust's
// (OpenAI's tiktoken) has U+0085 and lacks U+FEFF, so the tiktoken-wasm engine runs its encoding's
// pattern with JavaScript's class spelled out (operators/tokenize/engine/ecma-whitespace.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { get_encoding } from 'tiktoken';
import { ECMA_SPACE_RANGES, withEcmaWhitespace } from '../../../operators/tokenize/engine/ecma-whitespace.ts';
import { createEngine, ENGINES, type TokenEngine } from '../../../operators/tokenize/engine/engines.ts';
import { ENCODING, ENCODINGS, ranksData } from '../../../operators/tokenize/engine/encodings.ts';
import { IdBuffer } from '../../../operators/tokenize/engine/id-buffer.ts';

const encode = (engine: TokenEngine, text: string): number[] => {
  const out = new IdBuffer(16);
  engine.encode(text, out);
  return Array.from(out.view());
};

// whitespace to one regex engine or both, and format characters that are whitespace to neither
const CHARS = [
  '\uFEFF',
  '\u0085',
  '\u00A0',
  '\u2028',
  '\u2029',
  '\u200B',
  '\u3000',
  '\u1680',
  '\u2000',
  '\u2009',
  '\u200A',
  '\u202F',
  '\u205F',
  '\u180E',
  '\u200C',
  '\u200D',
  '\u2060',
  '\u00AD',
  '\u000B',
  '\u000C',
  '\u001C',
  '\u001F',
  '\t',
  '\r',
];
// the contexts where a character's class decides the split: next to letters, digits, spaces,
// punctuation, newlines and contractions
const CONTEXTS = [
  (c: string) => `a${c}b`,
  (c: string) => `hello${c}world`,
  (c: string) => `${c}x`,
  (c: string) => `x${c}`,
  (c: string) => `x ${c} y`,
  (c: string) => `x${c}${c} y`,
  (c: string) => `word${c}\n`,
  (c: string) => `1${c}2`,
  (c: string) => `it's${c}'s`,
  (c: string) => `x \n${c}y`,
  (c: string) => `!${c}!`,
  (c: string) => `x  ${c}y`,
  (c: string) => `${c}'ll`,
];

/** Short strings mixing the characters with letters, digits, spaces, punctuation (seeded). */
function mixed(count: number): string[] {
  const plain = ['a', 'Z', 'é', '1', '23', ' ', '  ', '\n', '\r\n', "'", "'s", "'ll", '.', '!', '中', '٣'];
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return Math.floor((seed / 2 ** 32) * n);
  };
  return Array.from({ length: count }, () => {
    let s = '';
    for (let i = 2 + rnd(8); i > 0; i--) s += rnd(3) === 0 ? CHARS[rnd(CHARS.length)] : plain[rnd(plain.length)];
    return s;
  });
}

const TEXTS = [...CHARS.flatMap((c) => CONTEXTS.map((f) => f(c))), ...mixed(1500)];
const codes = (t: string) =>
  [...t]
    .filter((c) => CHARS.includes(c))
    .map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);

const engines: TokenEngine[] = [];
afterAll(() => {
  for (const e of engines) e.dispose();
});

describe("JavaScript's \\s, spelled out for Rust", () => {
  it('is exactly the class V8 matches with \\s', () => {
    const inRanges = (cp: number) => ECMA_SPACE_RANGES.some(([a, b]) => cp >= a && cp <= b);
    const differ: number[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) if (/\s/u.test(String.fromCodePoint(cp)) !== inRanges(cp)) differ.push(cp);
    expect(differ).toEqual([]);
  });

  it("replaces every \\s and \\S of each encoding's pattern", () => {
    for (const encoding of ENCODINGS) {
      const pattern = withEcmaWhitespace(ranksData(encoding).pat_str);
      expect(pattern, encoding).not.toMatch(/\\[sS]/);
      expect(pattern, encoding).toContain('\\x{FEFF}');
    }
  });
});

describe.each(ENCODINGS)('%s', (encoding) => {
  it('all three engines give the same ids on text with Unicode whitespace and format characters', () => {
    const all = ENGINES.map((name) => createEngine(name, encoding));
    engines.push(...all);
    const reference = all.find((e) => e.engine === 'js-tiktoken')!;
    const differ: string[] = [];
    for (const text of TEXTS) {
      const want = encode(reference, text).join(',');
      for (const e of all) if (encode(e, text).join(',') !== want) differ.push(`${e.engine} ${JSON.stringify(text)}`);
    }
    expect(differ).toEqual([]);
  });

  it("OpenAI's tiktoken with its own pattern splits differently exactly where U+FEFF or U+0085 is", () => {
    const js = createEngine('js-tiktoken', encoding);
    engines.push(js);
    const raw = get_encoding(ENCODING[encoding].tiktoken);
    try {
      const culprits = new Set<string>();
      for (const text of TEXTS) {
        if (Array.from(raw.encode_ordinary(text)).join(',') === encode(js, text).join(',')) continue;
        // every difference involves one of the two characters whose class the regex engines disagree on
        expect(
          codes(text).filter((c) => c === 'U+FEFF' || c === 'U+0085'),
          JSON.stringify(text),
        ).not.toEqual([]);
        for (const c of codes(text)) if (c === 'U+FEFF' || c === 'U+0085') culprits.add(c);
      }
      expect([...culprits].sort()).toEqual(['U+0085', 'U+FEFF']);
      // the README's example
      expect(Array.from(raw.encode_ordinary("it's\uFEFF's"))).not.toEqual(encode(js, "it's\uFEFF's"));
    } finally {
      raw.free();
    }
  });
});
