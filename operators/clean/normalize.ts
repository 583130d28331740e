// Unicode normalisation and whitespace clean-up of the text column. A pure batch kernel, so it can
// run on the worker pool. The optional fixes (invisible characters, quotes, dashes) are off by
// default: they change text a reader would see as the same, which not every corpus wants.
import type { Utf8 } from 'apache-arrow';
import { Utf8 as Utf8Type } from 'apache-arrow';
import { z } from 'zod';
import { defineRowOperator, rowRejectsConfig } from '../../src/core/row-operator.ts';
import { schemaOf } from '../../src/schema/index.ts';

type Text = { text: Utf8 };
const Config = z.object({
  form: z
    .enum(['NFC', 'NFKC', 'none'])
    .default('NFC')
    .describe("Unicode normalisation form of the text ('none': left as is)"),
  /** collapse runs of spaces/tabs (any Unicode space), strip line-edge spaces, keep at most two newlines in a row */
  whitespace: z
    .boolean()
    .default(true)
    .describe(
      'collapse runs of spaces/tabs (any Unicode space), strip line-edge spaces, keep at most two newlines in a row',
    ),
  /** remove C0/C1 control characters other than tab and newline; CR LF, CR, U+2028/9 become LF */
  controls: z
    .boolean()
    .default(true)
    .describe('remove C0/C1 control characters other than tab and newline; CR LF, CR, U+2028/9 become LF'),
  /** remove invisible format characters: zero-width space, word joiner, BOM, soft hyphen (ZWJ/ZWNJ stay:
   * they change how Persian, Indic scripts and emoji render) */
  invisible: z
    .boolean()
    .default(false)
    .describe('remove invisible format characters: zero-width space, word joiner, BOM, soft hyphen (ZWJ/ZWNJ stay)'),
  /** curly and low quotes to ASCII ' and " */
  quotes: z.boolean().default(false).describe('curly and low quotes to ASCII \' and "'),
  /** Unicode hyphens and dashes (‐ ‑ ‒ – — ―, minus sign) to ASCII - */
  dashes: z.boolean().default(false).describe('Unicode hyphens and dashes (‐ ‑ ‒ – — ―, minus sign) to ASCII -'),
  /** drop rows whose text is empty after clean-up (reason normalize.empty) */
  dropEmpty: z
    .boolean()
    .default(false)
    .describe('drop rows whose text is empty after clean-up (reason normalize.empty)'),
  ...rowRejectsConfig,
});
type Cfg = z.output<typeof Config>;
/** The settings normalizeText reads; the optional fixes default to off. */
export type NormalizeOptions = Pick<Cfg, 'form' | 'whitespace' | 'controls'> &
  Partial<Pick<Cfg, 'invisible' | 'quotes' | 'dashes'>>;

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
const SPACES = /[ \t\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]+/g;
const INVISIBLE = /[\u200B\u2060\uFEFF\u00AD]/g;
const DOUBLE_QUOTES = /[\u201C\u201D\u201E\u201F\u00AB\u00BB\u2033]/g;
const SINGLE_QUOTES = /[\u2018\u2019\u201A\u201B\u2032]/g;
const DASHES = /[\u2010-\u2015\u2212]/g;

export function normalizeText(s: string, cfg: NormalizeOptions): string {
  let t = cfg.form === 'none' ? s : s.normalize(cfg.form);
  if (cfg.controls) t = t.replace(/\r\n?|[\u2028\u2029]/g, '\n').replace(CONTROLS, '');
  if (cfg.invisible) t = t.replace(INVISIBLE, '');
  if (cfg.quotes) t = t.replace(DOUBLE_QUOTES, '"').replace(SINGLE_QUOTES, "'");
  if (cfg.dashes) t = t.replace(DASHES, '-');
  if (cfg.whitespace)
    t = t
      .replace(SPACES, ' ')
      .replace(/ *\n */g, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  return t;
}

const textSchema = () => schemaOf<Text>({ text: { type: new Utf8Type() } });

export const normalize = defineRowOperator({
  id: 'clean/normalize',
  description: 'Unicode normalisation (NFC/NFKC), control characters and whitespace clean-up',
  module: import.meta.url,
  config: Config,
  input: textSchema,
  passthrough: true,
  output: textSchema,
  // a null text stays null, unless emptied rows are dropped: then it is one of them
  rows: (cfg) => ({
    nulls: cfg.dropEmpty ? { drop: 'normalize.null' } : 'keep',
    columns: { text: new Utf8Type() },
    rejects: cfg.rejects,
    batch: () => (text: string) => {
      const n = normalizeText(text, cfg);
      return cfg.dropEmpty && !n ? 'normalize.empty' : { text: n };
    },
  }),
});
