// The Gopher quality rules (Rae et al. 2021, "Scaling Language Models", appendix A.1.1, used for
// MassiveText), with the published thresholds as defaults. Signals are computed once per document;
// a rule compares one signal with its threshold.
import { z } from 'zod';
import { hasLetter, linesOf, type Words } from './words.ts';

export const GopherConfig = z.object({
  minWords: z.number().int().min(0).default(50).describe('documents with fewer words are dropped (gopher.word_count)'),
  maxWords: z
    .number()
    .int()
    .min(1)
    .default(100_000)
    .describe('documents with more words are dropped (gopher.word_count)'),
  minMeanWordLength: z
    .number()
    .min(0)
    .default(3)
    .describe('documents whose mean word length (characters) is below this are dropped (gopher.mean_word_length)'),
  maxMeanWordLength: z
    .number()
    .min(0)
    .default(10)
    .describe('documents whose mean word length (characters) is above this are dropped (gopher.mean_word_length)'),
  /** '#' per word and '...'/'…' per word, each */
  maxSymbolRatio: z
    .number()
    .min(0)
    .default(0.1)
    .describe("most '#' per word, and most '...' or '…' per word (gopher.symbol_ratio)"),
  /** fraction of non-empty lines starting with a bullet */
  maxBulletLines: z
    .number()
    .min(0)
    .max(1)
    .default(0.9)
    .describe('largest fraction of non-empty lines starting with a bullet (gopher.bullet_lines)'),
  /** fraction of non-empty lines ending with an ellipsis */
  maxEllipsisLines: z
    .number()
    .min(0)
    .max(1)
    .default(0.3)
    .describe('largest fraction of non-empty lines ending with an ellipsis (gopher.ellipsis_lines)'),
  /** fraction of words holding at least one letter */
  minAlphaWords: z
    .number()
    .min(0)
    .max(1)
    .default(0.8)
    .describe('smallest fraction of words holding at least one letter (gopher.alpha_words)'),
  /** occurrences of the stop words below (the paper: "at least two of" them) */
  minStopWords: z
    .number()
    .int()
    .min(0)
    .default(2)
    .describe(
      'fewest occurrences of stopWords in a kept document (the paper: "at least two of" them; gopher.stop_words)',
    ),
  stopWords: z
    .array(z.string().min(1))
    .default(['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'])
    .describe('the words minStopWords counts (case-insensitive)'),
});
export type GopherCfg = z.output<typeof GopherConfig>;

export const GOPHER_RULES = [
  'gopher.word_count',
  'gopher.mean_word_length',
  'gopher.symbol_ratio',
  'gopher.bullet_lines',
  'gopher.ellipsis_lines',
  'gopher.alpha_words',
  'gopher.stop_words',
] as const;

export const GOPHER_SIGNALS = [
  'words',
  'mean_word_length',
  'hash_ratio',
  'ellipsis_ratio',
  'bullet_lines',
  'ellipsis_lines',
  'alpha_words',
  'stop_words',
] as const;
export type GopherSignals = Record<(typeof GOPHER_SIGNALS)[number], number>;

const BULLETS = new Set(['•', '‣', '◦', '⁃', '▪', '▫', '●', '○', '■', '□', '◆', '►', '➢', '✓', '-', '–', '*', '·']);

function count(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

export function gopherSignals(text: string, w: Words, stopWords: ReadonlySet<string>): GopherSignals {
  const n = w.words.length;
  const lines = linesOf(text);
  let alpha = 0,
    stop = 0;
  for (const word of w.words) {
    if (hasLetter(word)) alpha++;
    if (stopWords.has(word)) stop++;
  }
  let bullets = 0,
    ellipses = 0;
  for (const l of lines) {
    if (BULLETS.has(l[0]!)) bullets++;
    if (l.endsWith('...') || l.endsWith('…')) ellipses++;
  }
  const per = (x: number) => (n === 0 ? (x > 0 ? Infinity : 0) : x / n);
  return {
    words: n,
    mean_word_length: n === 0 ? 0 : w.chars / n,
    hash_ratio: per(count(text, '#')),
    ellipsis_ratio: per(count(text, '...') + count(text, '…')),
    bullet_lines: lines.length === 0 ? 0 : bullets / lines.length,
    ellipsis_lines: lines.length === 0 ? 0 : ellipses / lines.length,
    alpha_words: n === 0 ? 0 : alpha / n,
    stop_words: stop,
  };
}

/** The first Gopher rule `s` breaks, or null. */
export function gopherVerdict(s: GopherSignals, c: GopherCfg, on: (rule: string) => boolean): string | null {
  if (on('gopher.word_count') && (s.words < c.minWords || s.words > c.maxWords)) return 'gopher.word_count';
  if (
    on('gopher.mean_word_length') &&
    (s.mean_word_length < c.minMeanWordLength || s.mean_word_length > c.maxMeanWordLength)
  )
    return 'gopher.mean_word_length';
  if (on('gopher.symbol_ratio') && (s.hash_ratio > c.maxSymbolRatio || s.ellipsis_ratio > c.maxSymbolRatio))
    return 'gopher.symbol_ratio';
  if (on('gopher.bullet_lines') && s.bullet_lines > c.maxBulletLines) return 'gopher.bullet_lines';
  if (on('gopher.ellipsis_lines') && s.ellipsis_lines > c.maxEllipsisLines) return 'gopher.ellipsis_lines';
  if (on('gopher.alpha_words') && s.alpha_words < c.minAlphaWords) return 'gopher.alpha_words';
  if (on('gopher.stop_words') && s.stop_words < c.minStopWords) return 'gopher.stop_words';
  return null;
}
