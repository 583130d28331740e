// Pre-tokenisation transforms against a plain statement of what they do (every run of whitespace
// replaced, every step applied to every document): the narrower regexes and the skip for documents
// that need nothing must not change a single result, on the real corpus and on random strings made of
// the characters each rule is about.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { textTransform, type TextTransforms } from '../../../operators/tokenize/transforms.ts';
import { mobyDickChapters, sotuTexts } from '../../../operators/ingest/embedded-corpus.ts';
import { normalizeText } from '../../../operators/clean/normalize.ts';
import { expandGlobs } from '../../../src/runtime/files.ts';

/** The rules as stated: NFC/NFKC; controls out and line separators to LF; whitespace runs to one space,
 * no spaces at line edges, at most two newlines, trimmed; lower case. */
function reference(s: string, t: Required<TextTransforms>): string {
  if (t.form !== 'none') s = s.normalize(t.form);
  // eslint-disable-next-line no-control-regex
  if (t.controls)
    s = s.replace(/\r\n?|[\u2028\u2029]/g, '\n').replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g, '');
  if (t.whitespace)
    s = s
      .replace(/\r\n?/g, '\n')
      .replace(/[ \t\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]+/g, ' ')
      .replace(/ *\n */g, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  return t.lowercase ? s.toLowerCase() : s;
}

const ALPHABET = [
  ' ',
  ' ',
  ' ',
  '\n',
  '\n',
  '\r',
  '\t',
  'a',
  'B',
  'é',
  'e\u0301',
  '\u0301',
  'a\u0300',
  '\u00A0',
  '\u3000',
  '\u2028',
  '\u0002',
  '\u0085',
  '\uFEFF',
  '\u000B',
  'ﬁ',
  '½',
  '한',
  '\u1100\u1161',
  'Ǆ',
];
function randomText(rand: () => number): string {
  const n = Math.floor(rand() * 24);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return s;
}
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const CONFIGS: Array<Required<TextTransforms>> = [];
for (const form of ['none', 'NFC', 'NFKC'] as const)
  for (const controls of [false, true])
    for (const whitespace of [false, true])
      for (const lowercase of [false, true]) CONFIGS.push({ form, controls, whitespace, lowercase });

describe('textTransform', () => {
  it('gives what the rules state, for every combination, on random strings of the characters they concern', () => {
    const rand = rng(11);
    const samples = Array.from({ length: 4000 }, () => randomText(rand));
    for (const t of CONFIGS) {
      const f = textTransform(t) ?? ((s: string) => s);
      for (const s of samples) expect(f(s), `${JSON.stringify(t)} on ${JSON.stringify(s)}`).toBe(reference(s, t));
    }
  });

  it('on the real corpus equals the rules and clean/normalize (NFC, controls, whitespace)', async () => {
    const files = await expandGlobs([sotuTexts(), mobyDickChapters()]);
    const t = { form: 'NFC', controls: true, whitespace: true, lowercase: false } as const;
    const f = textTransform(t)!;
    let changed = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const got = f(text);
      expect(got).toBe(reference(text, t));
      expect(got).toBe(normalizeText(text, { form: 'NFC', controls: true, whitespace: true }));
      if (got !== text.trim()) changed++;
    }
    // the corpus has documents each rule changes (a stray \u0002, runs of spaces), and many it does not
    expect(changed).toBeGreaterThan(0);
    expect(changed).toBeLessThan(files.length);
  });
});
