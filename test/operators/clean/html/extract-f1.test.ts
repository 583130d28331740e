// The bench's token F1 (bench/_extract-f1.ts) against a second implementation written differently:
// tokens found by classifying each code point with \p{L}/\p{N} one at a time, bags compared as
// sorted lists merged in step. Real texts: two extractions of the same PostgreSQL pages.
import { describe, expect, it } from 'vitest';
import { tokenF1 } from '../../../../bench/_extract-f1.ts';
import { extractHtml, extractMainText } from '../../../../operators/clean/extract-html.ts';
import { pgPages } from '../real-data.ts';

function oracleTokens(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const ch of text) {
    if (/^[\p{L}\p{N}]$/u.test(ch)) cur += ch;
    else if (cur) {
      out.push(cur.toLowerCase());
      cur = '';
    }
  }
  if (cur) out.push(cur.toLowerCase());
  return out.sort();
}

function oracleF1(a: string, b: string): number {
  const x = oracleTokens(a);
  const y = oracleTokens(b);
  if (x.length === 0 && y.length === 0) return 1;
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < x.length && j < y.length) {
    if (x[i] === y[j]) {
      common++;
      i++;
      j++;
    } else if (x[i]! < y[j]!) i++;
    else j++;
  }
  return common === 0 ? 0 : (2 * common) / (x.length + y.length);
}

describe('tokenF1', () => {
  it('equals an independent implementation on real extractions, and behaves as an F1', () => {
    const fast = extractHtml.def.config.parse({});
    const body = extractHtml.def.config.parse({ mode: 'body' });
    const pages = pgPages().filter((_, i) => i % 40 === 0);
    const scores: number[] = [];
    for (const p of pages) {
      const a = extractMainText(p.html, fast) as { text: string };
      const b = extractMainText(p.html, body) as { text: string };
      // the second text cut to half: F1 below 1, precision 1
      const half = b.text.slice(0, b.text.length >> 1);
      for (const [x, y] of [
        [a.text, b.text],
        [a.text, half],
        [half, a.text],
      ] as const) {
        const f = tokenF1(x, y);
        expect(f).toBeCloseTo(oracleF1(x, y), 12);
        scores.push(f);
      }
      expect(tokenF1(a.text, half)).toBe(tokenF1(half, a.text));
      expect(tokenF1(a.text, a.text.toUpperCase())).toBe(1);
    }
    expect(scores.some((s) => s < 0.9)).toBe(true);
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('alpha beta', '')).toBe(0);
    expect(tokenF1('alpha beta', 'gamma delta')).toBe(0);
    // multiplicity counts: "a a b" against "a b" shares 2 of 3 and 2 tokens
    expect(tokenF1('a a b', 'a b')).toBeCloseTo(0.8, 12);
    // letters and digits of any script, joined; everything else separates
    expect(tokenF1('Straße_2024 日本語', 'straße 2024 日本語')).toBe(1);
  });
});
