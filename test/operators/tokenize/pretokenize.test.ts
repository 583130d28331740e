// The hand-written scanners split text exactly like the encodings' pattern regexes, piece for piece:
// on real prose, messy email, several scripts, corner cases and random strings of tricky characters.
import { describe, expect, it } from 'vitest';
import { ENCODING, ranksData, type EncodingName, type PieceEnd } from '../../../operators/tokenize/engine/encodings.ts';
import { CORNER_CASES, MULTILINGUAL, proseSample, spamSample } from './samples.ts';

/** The scanner's pieces of `s`. */
function scan(pieceEnd: PieceEnd, s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    const j = pieceEnd(s, i, s.length);
    if (j <= i) throw new Error(`scanner made no progress at ${i} of ${JSON.stringify(s.slice(i, i + 20))}`);
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

/** The first difference between two splits, with context, or undefined. */
function firstDifference(want: string[], got: string[]): string | undefined {
  const k = want.findIndex((w, i) => got[i] !== w);
  if (k < 0 && want.length === got.length) return undefined;
  const at = k < 0 ? Math.min(want.length, got.length) : k;
  return `piece ${at}: regex ${JSON.stringify(want.slice(Math.max(0, at - 2), at + 3))}, scanner ${JSON.stringify(got.slice(Math.max(0, at - 2), at + 3))}`;
}

// one encoding per pattern family (gpt2, r50k and p50k share theirs)
const families: EncodingName[] = ['gpt2', 'cl100k', 'o200k'];

// a small seeded generator: the random strings are the same on every run
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const TRICKY = [
  ...'aZzé\'sStTrRdDlLmMvVeE 0 9\n\r\t.,/!-_"\u00a0\u0301\u0308\u02b0ǅΑβ١Ⅻ½\u2028\u3000中ſ',
  '😀',
  '𝐀',
  '𝟙',
  '\ud800',
  '\udc00',
  '\u{e0100}',
  '𐐨',
  '𐐀',
  '\ufeff',
  '\u0085',
];

describe.each(families)('%s pre-tokenizer scanner', (encoding) => {
  const { pieceEnd } = ENCODING[encoding];
  const pattern = new RegExp(ranksData(encoding).pat_str, 'gu');
  const regex = (s: string) => Array.from(s.matchAll(pattern), (m) => m[0]);

  it('splits real prose and email piece for piece like the regex', () => {
    const docs = [...proseSample(400_000, 3), ...spamSample(300_000, 2)];
    let pieces = 0;
    for (const d of docs) {
      const want = regex(d);
      expect(firstDifference(want, scan(pieceEnd, d))).toBeUndefined();
      pieces += want.length;
    }
    expect(pieces).toBeGreaterThan(100_000);
  });

  it('splits many scripts, corner cases and whitespace runs like the regex', () => {
    for (const s of [...MULTILINGUAL, ...CORNER_CASES, MULTILINGUAL.join('\n\n'), CORNER_CASES.join(' ')])
      expect(firstDifference(regex(s), scan(pieceEnd, s)), JSON.stringify(s)).toBeUndefined();
  });

  it('splits random strings of tricky characters like the regex', () => {
    const next = rng(encoding.length * 7919);
    let differ = 0;
    const examples: string[] = [];
    for (let t = 0; t < 20_000; t++) {
      let s = '';
      const len = 1 + Math.floor(next() * 14);
      for (let k = 0; k < len; k++) s += TRICKY[Math.floor(next() * TRICKY.length)];
      const d = firstDifference(regex(s), scan(pieceEnd, s));
      if (d) {
        differ++;
        if (examples.length < 3) examples.push(`${JSON.stringify(s)}: ${d}`);
      }
    }
    expect(examples).toEqual([]);
    expect(differ).toBe(0);
  });
});
