// Toxicity filter, lexical: the rate of a document's words that are entries of a maintained word list
// (LDNOOBW from npm naughty-words: 28 languages, words and phrases, no categories of its own; see
// toxicity/lexicon.ts). It adds toxicity_rate (matches / words, Float32), toxicity_matches (Int32) and
// toxicity_categories (the codes of the lists matched, "en" or "de,en"; null when none), and flags a
// document when it has at least minMatches matches and a rate above maxRate: mode 'annotate' (the
// default) keeps it and counts would_drop.toxicity.rate, mode 'drop' drops it with reason
// "toxicity.rate". Flagged documents are also counted per list (toxicity.flagged.<code>).
//
// What it is: word matching with no context. It cannot tell an insult from a quotation, a medical or
// legal text ("rectum", "rape", "intercourse"), a historical document ("negro" in 19th-century State
// of the Union addresses), a name (Scunthorpe is safe only because matching is by whole words), a
// word that is harmless in another language, or a substring entry inside a longer word in scripts
// without spaces (Japanese グロ "gross" in グローバル "global"; 挿入 "insert" is on the Japanese
// list). It misses misspellings, obfuscation ("f*ck") and any toxicity without listed words. Use it
// to flag and measure, and a classifier where that matters.
//
// Which lists: `languages` (default: all). With `byLang` (default) and a `lang` column upstream
// (clean/language), a row is checked against its own language's lists ("fr" -> fr and fr-CA) when
// they are among `languages`; other rows (no lang column, a null lang, a language without a list)
// against `fallback` (those of its lists among `languages`; if none, all of them), English by
// default. Not all lists for them: an entry of one language is often a plain word of another; all 28
// lists on English text match Turkish "am", Swedish "stake", Dutch "del", French "con" (measured on
// the State of the Union addresses: 2.8x the English-only rate).
import type { Schema, Utf8 } from 'apache-arrow';
import { Float32, Int32, Utf8 as Utf8Type } from 'apache-arrow';
import { z } from 'zod';
import type { RowSpec } from '../../src/core/row-kernel.ts';
import { defineRowOperator, rowRejectsConfig } from '../../src/core/row-operator.ts';
import { dictUtf8, schemaOf, type Columns } from '../../src/schema/index.ts';
import { compileLexicon, TOXICITY_LISTS, type Lexicon } from './toxicity/lexicon.ts';
import { scanText } from './toxicity/scan.ts';

export { TOXICITY_LISTS };

const Config = z.object({
  mode: z
    .enum(['drop', 'annotate'])
    .default('annotate')
    .describe(
      "'annotate' keeps every row with the toxicity_* columns and counts would_drop.toxicity.rate; 'drop' removes " +
        'flagged rows (reason "toxicity.rate")',
    ),
  maxRate: z
    .number()
    .min(0)
    .max(1)
    .default(0.005)
    .describe('a document is flagged when its share of listed words (matches / words) is above this'),
  minMatches: z
    .number()
    .int()
    .min(1)
    .default(2)
    .describe('... and it has at least this many matches (one word in a short text is a high rate)'),
  languages: z
    .array(z.enum(TOXICITY_LISTS as [string, ...string[]]))
    .default([])
    .describe(`word lists used, by code (${TOXICITY_LISTS.join(', ')}); empty: all`),
  byLang: z
    .boolean()
    .default(true)
    .describe(
      "with a lang column upstream (clean/language), check a row against its own language's lists when there are " +
        'any among languages; other rows against the fallback lists',
    ),
  fallback: z
    .array(z.enum(TOXICITY_LISTS as [string, ...string[]]))
    .default(['en'])
    .describe(
      'lists for rows whose language is not known (no lang column, null, or a language without a list), those of ' +
        'them among languages; [] or none among languages: all of languages',
    ),
  minSubstringChars: z
    .number()
    .int()
    .min(1)
    .default(2)
    .describe(
      'entries in scripts without spaces (Chinese, Japanese, Thai) are matched as substrings; shorter ones than this ' +
        'are left out (a single 性 would flag most Chinese text)',
    ),
  ...rowRejectsConfig,
});
type Cfg = z.output<typeof Config>;
type Text = { text: Utf8 };

export interface ToxicityResult {
  words: number;
  matches: number;
  rate: number;
  /** codes of the lists matched, sorted */
  categories: string[];
  /** the entries matched, in text order */
  terms: string[];
  flagged: boolean;
}

/** A scorer of texts under `config`; `lang` picks the row's lists as the operator does. */
export function toxicityScorer(
  config: z.input<typeof Config> = {},
): (text: string, lang?: string | null) => ToxicityResult {
  const cfg = Config.parse(config);
  const s = scorer(cfg);
  return (text, lang) => {
    const terms: string[] = [];
    const r = s.score(text, lang ?? null, terms);
    return { ...r, categories: s.categories(r.mask), terms };
  };
}

function scorer(cfg: Cfg) {
  const lex: Lexicon = compileLexicon(cfg.languages, cfg.minSubstringChars);
  const all = (1 << lex.codes.length) - 1;
  const maskOf = (codes: readonly string[]) => lex.codes.reduce((m, c, i) => (codes.includes(c) ? m | (1 << i) : m), 0);
  const fallback = maskOf(cfg.fallback) || all;
  const byLang = new Map<string, number>();
  const maskFor = (lang: string | null): number => {
    if (!cfg.byLang || lang === null) return fallback;
    let m = byLang.get(lang);
    if (m === undefined) {
      m = 0;
      lex.codes.forEach((c, i) => {
        if (c === lang || c.startsWith(`${lang}-`)) m! |= 1 << i;
      });
      if (m === 0) m = fallback;
      byLang.set(lang, m);
    }
    return m;
  };
  const names = new Map<number, string[]>();
  const categories = (mask: number): string[] => {
    let c = names.get(mask);
    if (!c) names.set(mask, (c = lex.codes.filter((_, i) => (mask & (1 << i)) !== 0).sort()));
    return c;
  };
  const score = (text: string, lang: string | null, terms?: string[]) => {
    const r = scanText(lex, text, maskFor(lang), terms);
    const rate = r.words === 0 ? 0 : r.matches / r.words;
    return { ...r, rate, flagged: r.matches >= cfg.minMatches && rate > cfg.maxRate };
  };
  return { lex, score, categories };
}

function rows(cfg: Cfg): RowSpec {
  const s = scorer(cfg);
  const joined = new Map<number, string | null>([[0, null]]);
  const category = (mask: number) => {
    let c = joined.get(mask);
    if (c === undefined) joined.set(mask, (c = s.categories(mask).join(',')));
    return c;
  };
  return {
    nulls: 'row',
    columns: { toxicity_rate: new Float32(), toxicity_matches: new Int32(), toxicity_categories: dictUtf8() },
    rejects: cfg.rejects,
    batch: (batch, t) => {
      const lang = cfg.byLang ? (batch.getChild('lang') ?? null) : null;
      return (text: string | null, row: number) => {
        if (text === null) return { toxicity_rate: NaN, toxicity_matches: 0, toxicity_categories: null };
        const r = s.score(text, lang === null ? null : ((lang.get(row) as string | null) ?? null));
        if (r.flagged) {
          for (const c of s.categories(r.mask)) t.count(`toxicity.flagged.${c}`);
          if (cfg.mode === 'drop') return 'toxicity.rate';
          t.count('would_drop.toxicity.rate');
        }
        return { toxicity_rate: r.rate, toxicity_matches: r.matches, toxicity_categories: category(r.mask) };
      };
    },
  };
}

const outputSchema = (): Schema<Text> =>
  schemaOf({
    text: { type: new Utf8Type() },
    toxicity_rate: { type: new Float32() },
    toxicity_matches: { type: new Int32() },
    toxicity_categories: { type: dictUtf8(), nullable: true },
  } as unknown as Columns<Text>);

export const toxicity = defineRowOperator({
  id: 'clean/toxicity',
  description:
    'lexical toxicity filter: rate of words from the LDNOOBW word lists (28 languages); annotate or drop, with the ' +
    'matched lists as categories',
  module: import.meta.url,
  config: Config,
  input: () => schemaOf<Text>({ text: { type: new Utf8Type() } }),
  passthrough: true,
  output: outputSchema,
  rows,
});
