// The C4 cleaning rules (Raffel et al. 2020, section 2.2, as implemented in TensorFlow Datasets'
// c4_utils.clean_page): keep only lines that end in terminal punctuation, have at least 3 words,
// do not mention javascript or a cookie/terms policy; drop the page when a kept line says
// "lorem ipsum" or holds a curly brace, or when fewer than 5 sentences remain. Line removals change
// the text; page rules drop the document.
import { z } from 'zod';

export const C4Config = z.object({
  /** a kept line ends with one of these (and not with an ellipsis) */
  endMarks: z
    .array(z.string().min(1))
    .default(['.', '?', '!', '"'])
    .describe('a kept line ends with one of these, and not with an ellipsis (c4.line.terminal_punct)'),
  minWordsPerLine: z
    .number()
    .int()
    .min(0)
    .default(3)
    .describe('lines with fewer whitespace-separated words are removed (c4.line.min_words)'),
  minSentences: z
    .number()
    .int()
    .min(0)
    .default(5)
    .describe('pages with fewer sentences in their kept lines are dropped (c4.too_few_sentences)'),
  /** lines with a longer word are removed (TFDS: 1000) */
  maxWordLength: z
    .number()
    .int()
    .min(1)
    .default(1000)
    .describe('lines with a longer word (characters) are removed (c4.line.long_word)'),
  policySubstrings: z
    .array(z.string().min(1))
    .default(['terms of use', 'privacy policy', 'cookie policy', 'uses cookies', 'use of cookies', 'use cookies'])
    .describe(
      'lines containing any of these (lower case; matched in the lower-cased line) are removed (c4.line.policy)',
    ),
  /** pages with any of these words are dropped (C4 used the LDNOOBW list; none by default) */
  badWords: z
    .array(z.string().min(1))
    .default([])
    .describe('pages with any of these words are dropped (c4.bad_words; C4 used the LDNOOBW list); empty: none'),
  /** remove Wikipedia-style citation marks like [1] and [citation needed] before the line checks */
  removeCitations: z
    .boolean()
    .default(true)
    .describe('remove Wikipedia-style citation marks like [1] and [citation needed] before the line checks'),
});
export type C4Cfg = z.output<typeof C4Config>;

/** Page-level rules (drop reasons) and line-level rules (counted removals). */
export const C4_RULES = [
  'c4.lorem_ipsum',
  'c4.curly_brace',
  'c4.bad_words',
  'c4.too_few_sentences',
  'c4.no_lines',
  'c4.line.terminal_punct',
  'c4.line.min_words',
  'c4.line.javascript',
  'c4.line.policy',
  'c4.line.long_word',
] as const;

export interface C4Result {
  /** the text made of the kept lines */
  text: string;
  /** page rule the document breaks, or null */
  drop: string | null;
  /** lines removed, by line rule */
  removed: Record<string, number>;
  lines: number;
  keptLines: number;
  sentences: number;
}

const CITATION = /\[\d*\]|\[edit\]|\[citation needed\]/gi;
const SENTENCE_END = /[.!?]+["'”’)\]]*(?=\s|$)/g;

export function c4Clean(text: string, c: C4Cfg, on: (rule: string) => boolean): C4Result {
  const kept: string[] = [];
  const removed: Record<string, number> = {};
  const remove = (rule: string) => {
    removed[rule] = (removed[rule] ?? 0) + 1;
  };
  let lines = 0,
    sentences = 0;
  const bad =
    c.badWords.length > 0 && on('c4.bad_words') ? new RegExp(`\\b(${c.badWords.map(escape).join('|')})\\b`, 'i') : null;
  const done = (drop: string | null): C4Result => ({
    text: kept.join('\n'),
    drop,
    removed,
    lines,
    keptLines: kept.length,
    sentences,
  });
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line.length === 0) continue;
    lines++;
    if (c.removeCitations) line = line.replace(CITATION, '').trim();
    if (on('c4.line.terminal_punct') && (!c.endMarks.some((m) => line.endsWith(m)) || line.endsWith('...'))) {
      remove('c4.line.terminal_punct');
      continue;
    }
    const words = line.split(/\s+/);
    if (on('c4.line.min_words') && words.length < c.minWordsPerLine) {
      remove('c4.line.min_words');
      continue;
    }
    if (on('c4.line.long_word') && words.some((w) => w.length > c.maxWordLength)) {
      remove('c4.line.long_word');
      continue;
    }
    const lower = line.toLowerCase();
    if (on('c4.lorem_ipsum') && lower.includes('lorem ipsum')) return done('c4.lorem_ipsum');
    if (on('c4.line.javascript') && lower.includes('javascript')) {
      remove('c4.line.javascript');
      continue;
    }
    if (on('c4.curly_brace') && line.includes('{')) return done('c4.curly_brace');
    if (on('c4.line.policy') && c.policySubstrings.some((p) => lower.includes(p))) {
      remove('c4.line.policy');
      continue;
    }
    if (bad?.test(line)) return done('c4.bad_words');
    sentences += Math.max(1, line.match(SENTENCE_END)?.length ?? 0);
    kept.push(line);
  }
  if (kept.length === 0 && on('c4.no_lines')) return done('c4.no_lines');
  if (on('c4.too_few_sentences') && sentences < c.minSentences) return done('c4.too_few_sentences');
  return done(null);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
