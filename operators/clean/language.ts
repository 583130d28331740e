// Language identification with franc's model (character trigram profiles, ISO 639-3 codes), adding
// `lang` (ISO 639-1 where one exists) and `lang_score`, and dropping rows that are too short,
// undetermined, below the confidence threshold, or in a language not allowed.
//
// Engines. 'fast' (default) is franc's algorithm on integer tables (language/fast-franc.ts): the same
// labels and scores as franc, ~25x faster; 'franc' calls franc itself, kept as the reference.
//
// Short texts. Below minChars, trigrams cannot tell languages apart, but a script with a single
// language in franc (Greek, Hangul, kana, Thai, Georgian...; not Hebrew, which Yiddish shares) still
// names it: such a text keeps the script's language, and is dropped as too short only when its script
// has several languages. Its confidence grows with its length like any other text's.
//
// Confidence. franc ranks languages by trigram distance d and rescales so the best scores 1 and the
// others s = 1 - (d - d_best) / (300 n - d_best), n = characters analysed (at most 2048). Those
// scores crowd towards 1 as n grows, so the raw runner-up gap is no confidence. (1 - s2) * n, though,
// is roughly (d2 - d_best) / 300: how many fully mismatched trigrams' worth of evidence separate the
// winner from the runner-up; it grows with both separation and text length. lang_score =
// 1 - exp(-gap / 5) maps it into [0, 1): a gap of 3.5 trigrams scores 0.5, 11.5 scores 0.9.
// Measured: whole State of the Union addresses and Moby-Dick chapters >= 0.97; two-sentence texts
// in eleven languages 0.9-1.0; "SELECT * FROM t WHERE x = 1" 0.34; "Hello world" 0.
import type { Schema, Utf8 } from 'apache-arrow';
import { Float32, Utf8 as Utf8Type } from 'apache-arrow';
import { francAll } from 'franc';
import { data } from 'franc/data.js';
import { expressions } from 'franc/expressions.js';
import { z } from 'zod';
import type { RowSpec } from '../../src/core/row-kernel.ts';
import { defineRowOperator, rowRejectsConfig } from '../../src/core/row-operator.ts';
import { dictUtf8, schemaOf, type Columns } from '../../src/schema/index.ts';
import { rank, top2 } from './language/fast-franc.ts';
import { leadingText } from './language/leading-text.ts';
import { francCodesFor, isKnownLanguage, toIso6391 } from './language/iso639.ts';

// checked against franc's languages at validation: an unknown code (a typo) would match no document,
// so `allowed` would drop everything and `only` would leave every text undetermined
const langCode = z
  .string()
  .regex(/^[a-z]{2,3}$/, 'expected an ISO 639-1 or 639-3 code like "en" or "eng"')
  .refine(isKnownLanguage, {
    error: (iss) =>
      `"${String(iss.input)}" is not a language franc identifies; use an ISO 639-1 code like "en" or a 639-3 code ` +
      `like "eng" (the codes: operators/clean/language/iso639.ts and franc's README)`,
  });

const Config = z.object({
  mode: z
    .enum(['drop', 'annotate'])
    .default('drop')
    .describe(
      "'drop' removes rows failing a check, with its reason; 'annotate' keeps every row with lang and lang_score, " +
        'counting would_drop.<reason>',
    ),
  /** languages to keep (ISO 639-1 like "en" or 639-3 like "eng"); empty keeps every language */
  allowed: z
    .array(langCode)
    .default([])
    .describe('languages to keep (ISO 639-1 like "en" or 639-3 like "eng"); empty keeps every language'),
  /** 'fast': franc's model and scoring on integer tables; 'franc': franc itself (the reference) */
  engine: z
    .enum(['fast', 'franc'])
    .default('fast')
    .describe(
      "'fast': franc's profiles and scoring reimplemented on integer tables (same labels); 'franc': franc itself",
    ),
  /** rows whose lang_score is below this are dropped (see the confidence note above) */
  minConfidence: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe(
      'rows whose lang_score (confidence in [0, 1): 0.5 is about 3.5 trigrams of evidence over the runner-up) is ' +
        'below this are dropped',
    ),
  /** shorter texts (characters, after trimming) are dropped as too short to tell, unless written in a
   * script with one language (see Short texts above) */
  minChars: z
    .number()
    .int()
    .min(1)
    .default(20)
    .describe(
      'texts shorter than this many characters (after trimming) are dropped as too short to tell, unless their ' +
        'script has a single language (Greek, Hangul, kana, Thai...), which names it',
    ),
  /** restrict franc to these candidates (ISO 639-1 or 639-3): fewer confusions (eng/sco) and faster */
  only: z
    .array(langCode)
    .default([])
    .describe(
      'restrict franc to these candidate languages (ISO 639-1 or 639-3): fewer confusions and faster; empty: every ' +
        'language',
    ),
  /** never answer these: Scots' profile is so close to English that franc picks it for short
   * English text ("I think that this is a good idea" -> sco); pass [] to allow it */
  ignore: z
    .array(langCode)
    .default(['sco'])
    .describe(
      'languages never answered (default Scots, whose profile is so close to English that franc picks it for short ' +
        'English text); [] allows all',
    ),
  /** characters of each text franc reads (from the start; franc's own limit is 2048). Its time is
   * about linear in this: at 1024 it took a third less time and still found English in every address */
  sampleChars: z
    .number()
    .int()
    .min(16)
    .max(2048)
    .default(2048)
    .describe(
      "characters of each text franc reads, from the start (franc's limit is 2048; its time is about linear in this)",
    ),
  /** codes written to `lang` */
  codes: z
    .enum(['639-1', '639-3'])
    .default('639-1')
    .describe("codes written to lang: ISO 639-1 where one exists ('en'), or always 639-3 ('eng')"),
  ...rowRejectsConfig,
});
type Cfg = z.output<typeof Config>;

type Text = { text: Utf8 };
type Lang = { text: Utf8; lang: ReturnType<typeof dictUtf8>; lang_score: Float32 };

/** franc reads at most this many characters */
const FRANC_MAX = 2048;
const EVIDENCE_SCALE = 5;

export interface Identified {
  lang3: string;
  lang: string;
  score: number;
  /** told by its script alone (a script franc gives one language), not by trigrams */
  byScript: boolean;
}

const UNDETERMINED: Identified = { lang3: 'und', lang: 'und', score: 0, byScript: false };

/** franc's scripts that have one language, which it answers without trigrams */
const SINGLE_LANGUAGE_SCRIPTS = new Set(Object.keys(expressions).filter((s) => !(s in data)));

export interface IdentifyOptions {
  only?: readonly string[];
  ignore?: readonly string[];
  codes?: Cfg['codes'];
  sampleChars?: number;
  engine?: Cfg['engine'];
}

/** The language of `text` and its confidence in [0, 1); lang3 'und' when franc cannot tell. */
export function identifyLanguage(text: string, opts: IdentifyOptions = {}): Identified {
  const sample = text.trim().slice(0, Math.min(FRANC_MAX, opts.sampleChars ?? FRANC_MAX));
  const only = opts.only ?? [],
    ignore = opts.ignore ?? ['sco'],
    codes = opts.codes ?? '639-1';
  let best: string, runnerUp: number, byScript: boolean;
  if (opts.engine === 'franc') {
    const ranked = francAll(sample, {
      minLength: 1,
      ...(only.length > 0 ? { only: [...only] } : {}),
      ...(ignore.length > 0 ? { ignore: [...ignore] } : {}),
    });
    best = ranked[0]?.[0] ?? 'und';
    runnerUp = ranked[1]?.[1] ?? 0;
    byScript = SINGLE_LANGUAGE_SCRIPTS.has(best);
  } else {
    const ranking = rank(sample, { minLength: 1, only, ignore });
    ({ lang: best, runnerUp } = top2(ranking));
    byScript = ranking.kind === 'script';
  }
  if (best === 'und') return UNDETERMINED;
  const gap = (1 - runnerUp) * sample.length;
  const score = 1 - Math.exp(-gap / EVIDENCE_SCALE);
  return { lang3: best, lang: codes === '639-1' ? toIso6391(best) : best, score, byScript };
}

// drop mode drops rows failing a check with its reason; annotate keeps them, counting would_drop.<reason>
// (a null text there gets lang 'und', score 0)
const rows = (cfg: Cfg) => {
  const only = cfg.only.flatMap(francCodesFor);
  const ignore = cfg.ignore.flatMap(francCodesFor);
  const allowed = new Set(cfg.allowed.flatMap(francCodesFor));
  const opts: IdentifyOptions = { only, ignore, codes: cfg.codes, sampleChars: cfg.sampleChars, engine: cfg.engine };
  const verdict = (text: string | null): { id: Identified; drop: string | null } => {
    if (text === null) return { id: UNDETERMINED, drop: 'language.null' };
    const id = identifyLanguage(text, opts);
    if (text.trim().length < cfg.minChars && !id.byScript) return { id: UNDETERMINED, drop: 'language.too_short' };
    if (id.lang3 === 'und') return { id, drop: 'language.undetermined' };
    if (id.score < cfg.minConfidence) return { id, drop: 'language.low_confidence' };
    if (allowed.size > 0 && !allowed.has(id.lang3)) return { id, drop: 'language.not_allowed' };
    return { id, drop: null };
  };
  // characters a row's text is decoded for: the sample, and enough to tell whether it reaches minChars
  const chars = Math.max(cfg.sampleChars, cfg.minChars);
  return {
    // the row function decodes only the start of each text from the column's UTF-8 (leading-text.ts)
    read: 'none',
    nulls: cfg.mode === 'drop' ? { drop: 'language.null' } : 'row',
    columns: { lang: dictUtf8(), lang_score: new Float32() },
    rejects: cfg.rejects,
    batch: (batch, t) => {
      const col = batch.getChild('text');
      if (!col) throw new Error(`column "text" missing (batch has ${batch.schema.names.join(', ')})`);
      const data = col.data[0]!;
      const offsets = data.valueOffsets as unknown;
      const bytes = data.values as Uint8Array;
      const text = (r: number): string =>
        offsets instanceof Int32Array
          ? leadingText(bytes, offsets[r]!, offsets[r + 1]!, chars)
          : (col.get(r) as string); // (64-bit offsets: decoded whole)
      return (value: null | undefined, r: number) => {
        const { id, drop } = verdict(value === null ? null : text(r));
        if (drop && cfg.mode === 'drop') return drop;
        if (drop) t.count(`would_drop.${drop}`);
        return { lang: id.lang, lang_score: id.score };
      };
    },
  } satisfies RowSpec<{ lang: ReturnType<typeof dictUtf8>; lang_score: Float32 }>;
};

export const language = defineRowOperator({
  id: 'clean/language',
  description:
    "language identification (franc's trigram model; its own fast engine by default): adds lang and lang_score, drops " +
    'unclear or unwanted languages',
  module: import.meta.url,
  config: Config,
  input: () => schemaOf<Text>({ text: { type: new Utf8Type() } }),
  passthrough: true,
  output: (): Schema<Lang> =>
    schemaOf<Lang>({
      text: { type: new Utf8Type() },
      lang: { type: dictUtf8() },
      lang_score: { type: new Float32() },
    } as Columns<Lang>),
  rows,
});
