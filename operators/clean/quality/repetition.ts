// The Gopher repetition rules (Rae et al. 2021, appendix A.1.1, table A1): documents that repeat
// lines, paragraphs or word n-grams too much are dropped. N-gram fractions follow the paper (and
// RedPajama-v2's implementation): characters of words, each word counted once.
// N-grams are keyed by a 64-bit hash of their word ids, so no n-gram string is ever built; a
// collision (odds ~1e-9 for a 100k-word document) can only make a count slightly high.
import { z } from 'zod';
import { linesOf, paragraphsOf, type Words } from './words.ts';

export const RepetitionConfig = z.object({
  maxDupLines: z
    .number()
    .min(0)
    .max(1)
    .default(0.3)
    .describe('largest fraction of lines that repeat an earlier line (gopher.dup_lines)'),
  maxDupParagraphs: z
    .number()
    .min(0)
    .max(1)
    .default(0.3)
    .describe('largest fraction of paragraphs that repeat an earlier paragraph (gopher.dup_paragraphs)'),
  maxDupLineChars: z
    .number()
    .min(0)
    .max(1)
    .default(0.2)
    .describe('largest fraction of characters in lines that repeat an earlier line (gopher.dup_line_chars)'),
  maxDupParagraphChars: z
    .number()
    .min(0)
    .max(1)
    .default(0.2)
    .describe(
      'largest fraction of characters in paragraphs that repeat an earlier paragraph (gopher.dup_paragraph_chars)',
    ),
  /** character fraction of the most frequent 2-, 3- and 4-gram */
  maxTopNgram: z
    .array(z.number().min(0).max(1))
    .length(3)
    .default([0.2, 0.18, 0.16])
    .describe(
      'largest character fraction of the most frequent word 2-, 3- and 4-gram, one threshold each (gopher.top_<n>gram)',
    ),
  /** character fraction in duplicated 5- to 10-grams */
  maxDupNgram: z
    .array(z.number().min(0).max(1))
    .length(6)
    .default([0.15, 0.14, 0.13, 0.12, 0.11, 0.1])
    .describe('largest character fraction in duplicated word 5- to 10-grams, one threshold each (gopher.dup_<n>gram)'),
});
export type RepetitionCfg = z.output<typeof RepetitionConfig>;

const TOP_N = [2, 3, 4] as const;
const DUP_N = [5, 6, 7, 8, 9, 10] as const;

export const REPETITION_RULES = [
  'gopher.dup_lines',
  'gopher.dup_paragraphs',
  'gopher.dup_line_chars',
  'gopher.dup_paragraph_chars',
  ...TOP_N.map((n) => `gopher.top_${n}gram` as const),
  ...DUP_N.map((n) => `gopher.dup_${n}gram` as const),
] as const;
export const REPETITION_SIGNALS = REPETITION_RULES.map((r) => r.slice('gopher.'.length));
export type RepetitionSignals = Record<string, number>;

/** Fraction of items that repeat an earlier one, and the fraction of characters in them. */
export function duplicateFractions(items: readonly string[]): { items: number; chars: number } {
  const seen = new Set<string>();
  let dup = 0,
    dupChars = 0,
    chars = 0;
  for (const s of items) {
    chars += s.length;
    if (seen.has(s)) {
      dup++;
      dupChars += s.length;
    } else seen.add(s);
  }
  return { items: items.length === 0 ? 0 : dup / items.length, chars: chars === 0 ? 0 : dupChars / chars };
}

/** Word n-gram fractions for n = 2..10, from one pass of hashes extended a word at a time. */
export function ngramFractions(w: Words): { top: number[]; dup: number[] } {
  const words = w.words,
    n = words.length;
  const top = TOP_N.map(() => 0),
    dup = DUP_N.map(() => 0);
  if (n < 2 || w.chars === 0) return { top, dup };
  const ids = new Int32Array(n),
    lens = new Int32Array(n);
  const vocab = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const word = words[i]!;
    let id = vocab.get(word);
    if (id === undefined) {
      id = vocab.size;
      vocab.set(word, id);
    }
    ids[i] = id + 1;
    lens[i] = word.length;
  }
  // h1/h2[i]: two independent 32-bit hashes of the k-gram starting at word i; len[i]: its characters
  const h1 = new Int32Array(n),
    h2 = new Int32Array(n),
    len = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    h1[i] = Math.imul(ids[i]!, 0x9e3779b1);
    h2[i] = Math.imul(ids[i]!, 0x85ebca77);
    len[i] = lens[i]!;
  }
  const table = new NgramTable(n);
  const slot = new Int32Array(n);
  const covered = new Uint8Array(n);
  for (let k = 2; k <= 10 && k <= n; k++) {
    const m = n - k + 1; // k-grams in the document
    table.clear();
    for (let i = 0; i < m; i++) {
      const id = ids[i + k - 1]!;
      const a = (h1[i] = (Math.imul(h1[i]! ^ id, 0x01000193) + Math.imul(id, 0x2c1b3c6d)) | 0);
      const b = (h2[i] = Math.imul((h2[i]! << 5) ^ (h2[i]! >>> 27) ^ id, 0x27d4eb2f));
      len[i] = len[i]! + lens[i + k - 1]!;
      slot[i] = table.add(a, b);
    }
    const counts = table.counts;
    if (k <= 4) {
      let best = 1,
        bestAt = -1;
      for (let i = 0; i < m; i++) {
        const c = counts[slot[i]!]!;
        if (c > best) {
          best = c;
          bestAt = i;
        }
      }
      top[k - 2] = bestAt < 0 ? 0 : Math.min(1, (best * len[bestAt]!) / w.chars);
    } else {
      covered.fill(0);
      let dupChars = 0;
      for (let i = 0; i < m; i++) {
        if (counts[slot[i]!]! < 2) continue;
        for (let j = i; j < i + k; j++)
          if (covered[j] === 0) {
            covered[j] = 1;
            dupChars += lens[j]!;
          }
      }
      dup[k - 5] = dupChars / w.chars;
    }
  }
  return { top, dup };
}

/** Open-addressing counter keyed by a pair of 32-bit hashes (a Map with number keys is ~10x slower). */
class NgramTable {
  readonly a: Int32Array;
  readonly b: Int32Array;
  readonly counts: Int32Array;
  private readonly mask: number;
  constructor(items: number) {
    let size = 16;
    while (size < items * 2) size *= 2;
    this.a = new Int32Array(size);
    this.b = new Int32Array(size);
    this.counts = new Int32Array(size);
    this.mask = size - 1;
  }
  clear(): void {
    this.counts.fill(0);
  }
  /** Count one occurrence; returns the slot holding the pair. */
  add(a: number, b: number): number {
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
    for (;;) {
      const c = this.counts[i]!;
      if (c === 0) {
        this.a[i] = a;
        this.b[i] = b;
        this.counts[i] = 1;
        return i;
      }
      if (this.a[i] === a && this.b[i] === b) {
        this.counts[i] = c + 1;
        return i;
      }
      i = (i + 1) & this.mask;
    }
  }
}

export function repetitionSignals(text: string, w: Words): RepetitionSignals {
  const lines = duplicateFractions(linesOf(text));
  const paras = duplicateFractions(paragraphsOf(text));
  const { top, dup } = ngramFractions(w);
  const s: RepetitionSignals = {
    dup_lines: lines.items,
    dup_paragraphs: paras.items,
    dup_line_chars: lines.chars,
    dup_paragraph_chars: paras.chars,
  };
  TOP_N.forEach((n, i) => {
    s[`top_${n}gram`] = top[i]!;
  });
  DUP_N.forEach((n, i) => {
    s[`dup_${n}gram`] = dup[i]!;
  });
  return s;
}

/** The first repetition rule `s` breaks, or null. */
export function repetitionVerdict(
  s: RepetitionSignals,
  c: RepetitionCfg,
  on: (rule: string) => boolean,
): string | null {
  const check = (rule: string, value: number, max: number) => on(rule) && value > max;
  if (check('gopher.dup_lines', s.dup_lines!, c.maxDupLines)) return 'gopher.dup_lines';
  if (check('gopher.dup_paragraphs', s.dup_paragraphs!, c.maxDupParagraphs)) return 'gopher.dup_paragraphs';
  if (check('gopher.dup_line_chars', s.dup_line_chars!, c.maxDupLineChars)) return 'gopher.dup_line_chars';
  if (check('gopher.dup_paragraph_chars', s.dup_paragraph_chars!, c.maxDupParagraphChars))
    return 'gopher.dup_paragraph_chars';
  for (const [i, n] of TOP_N.entries())
    if (check(`gopher.top_${n}gram`, s[`top_${n}gram`]!, c.maxTopNgram[i]!)) return `gopher.top_${n}gram`;
  for (const [i, n] of DUP_N.entries())
    if (check(`gopher.dup_${n}gram`, s[`dup_${n}gram`]!, c.maxDupNgram[i]!)) return `gopher.dup_${n}gram`;
  return null;
}
