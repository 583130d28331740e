// N-gram counting as sacrebleu/metrics/helpers.py does it, over code points and Python whitespace.

import { codePoints, pySplit } from './python-text.ts';

export type Counts = Map<string, number>;

function count(items: readonly string[]): Counts {
  const counts: Counts = new Map();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

/** Word n-grams of one order, keyed by the tokens joined with one space (tokens never hold whitespace). */
export function wordNgrams(tokens: readonly string[], n: number): Counts {
  const grams: string[] = [];
  for (let i = 0; i + n <= tokens.length; i++) grams.push(tokens.slice(i, i + n).join(' '));
  return count(grams);
}

/** Word n-grams of orders 1..maxOrder of a whitespace-split line (index n-1), and its token count. */
export function allWordNgrams(line: string, maxOrder: number): { ngrams: Counts[]; length: number } {
  const tokens = pySplit(line);
  const ngrams: Counts[] = [];
  for (let n = 1; n <= maxOrder; n++) ngrams.push(wordNgrams(tokens, n));
  return { ngrams, length: tokens.length };
}

/** Character n-grams of orders 1..maxOrder (index n-1); whitespace removed first unless kept. */
export function allCharNgrams(line: string, maxOrder: number, includeWhitespace: boolean): Counts[] {
  const chars = codePoints(includeWhitespace ? line : pySplit(line).join(''));
  const out: Counts[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const grams: string[] = [];
    for (let i = 0; i + n <= chars.length; i++) grams.push(chars.slice(i, i + n).join(''));
    out.push(count(grams));
  }
  return out;
}
