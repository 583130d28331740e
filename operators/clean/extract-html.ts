// Main text of HTML pages. Three modes: 'fast' (default), a single-pass scanner of our own
// (html/fast-extract.ts, about 100x Readability's speed in the clean bench) that leaves out
// navigation, hidden and link-dense blocks; 'readability', Mozilla's Readability on a linkedom DOM
// with the body text as its fallback; 'body', that fallback alone. Text keeps paragraph breaks. HTML arriving as bytes (a Binary `text`
// column) is decoded by its BOM or <meta charset> first. A pure kernel: it runs on the worker pool.
// Rows it cannot use are dropped with a counted reason; hostile markup is bounded and counted.
import type { DataType, Schema, Utf8 } from 'apache-arrow';
import { DataType as DT, Utf8 as Utf8Type } from 'apache-arrow';
import { z } from 'zod';
import type { RowSpec, Tally } from '../../src/core/row-kernel.ts';
import { defineRowOperator, rowRejectsConfig } from '../../src/core/row-operator.ts';
import { schemaOf } from '../../src/schema/index.ts';
import { decodeHtmlBytes } from './html/charset.ts';
import { domExtract } from './html/dom-extract.ts';
import { fastExtract } from './html/fast-extract.ts';

const Config = z.object({
  mode: z
    .enum(['fast', 'readability', 'body'])
    .default('fast')
    .describe(
      "'fast': a single-pass scanner that leaves out navigation, hidden and link-dense blocks; 'readability': " +
        "Mozilla Readability's article, else the page's text without scripts, styles and navigation; 'body': that " +
        'text alone (both DOM modes are about 100x slower than fast)',
    ),
  /** 'column' adds a nullable `title` column; 'prepend' puts the title as the first paragraph */
  title: z
    .enum(['none', 'column', 'prepend'])
    .default('none')
    .describe(
      "the page title: left out ('none'), a nullable title column ('column'), or the first paragraph of the text " +
        "('prepend')",
    ),
  langHint: z
    .boolean()
    .default(false)
    .describe('add a nullable html_lang column with the language the page declares (<html lang>)'),
  minChars: z
    .number()
    .int()
    .min(0)
    .default(1)
    .describe('pages whose extracted text is shorter than this many characters are dropped'),
  maxChars: z
    .number()
    .int()
    .min(1)
    .default(8_000_000)
    .describe('larger inputs (UTF-16 code units, roughly characters) are dropped unparsed (extract.too_large)'),
  /** fast: link text over this fraction of a div/list/table/section's text drops the block */
  linkDensity: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe(
      'fast mode: a block (div, list, table, section) whose link text is more than this fraction of its text is left ' +
        'out (counted extract.link_dense); 1: keep all',
    ),
  maxElements: z
    .number()
    .int()
    .min(0)
    .default(50_000)
    .describe(
      'DOM modes: pages with more than twice this many tags are dropped unparsed (extract.too_many_elements), as ' +
        'parsing slows superlinearly on huge markup; 0: no limit',
    ),
  maxDepth: z
    .number()
    .int()
    .min(1)
    .default(256)
    .describe(
      'fast mode: elements nested deeper are not tracked (their text is kept, counted extract.depth_capped); ' +
        'readability mode: deeper pages skip Readability (it slows steeply with depth) and get the body text',
    ),
  /** Readability sometimes elects one dense block (a big table or list) and drops the rest of the page:
   * alone it keeps 91.3% of the PostgreSQL manual's main paragraphs (98.7% of the kernel docs'). When
   * its text is shorter than this fraction of the fallback text, the fallback is used: 97.2% (98.7%)
   * at 0.5. Higher trusts the fallback more, which on cluttered sites keeps more clutter; 0 always
   * takes Readability's article. */
  minCoverage: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe(
      "readability mode: when Readability's article is shorter than this fraction of the body text, the body text " +
        "is used; 0: always Readability's article",
    ),
  /** input that has no HTML tag at all: dropped ('drop') or passed through as text ('keep') */
  nonHtml: z
    .enum(['drop', 'keep'])
    .default('drop')
    .describe("input with no HTML tag at all: dropped (extract.not_html) or passed through as text ('keep')"),
  ...rowRejectsConfig,
});
type Cfg = z.output<typeof Config>;

type Text = { text: Utf8 };

const LOOKS_HTML = /<\s*[a-zA-Z!?/]/;

/** Control characters (other than tab, newlines, form feed) in over 1% of the first 8 KB: not text. */
function looksBinary(s: string): boolean {
  const n = Math.min(s.length, 8192);
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 && c !== 9 && c !== 10 && c !== 12 && c !== 13) bad++;
  }
  return bad > n / 100;
}

export interface Extracted {
  text: string;
  title: string | null;
  lang: string | null;
  via: 'fast' | 'readability' | 'body';
}

/** The main text of one page, or a drop reason; `tally` receives counters. Throws nothing. */
export function extractMainText(html: string, cfg: Cfg, tally?: Tally): Extracted | { drop: string } {
  if (html.length > cfg.maxChars) return { drop: 'extract.too_large' };
  if (looksBinary(html)) return { drop: 'extract.binary' };
  if (!LOOKS_HTML.test(html))
    return cfg.nonHtml === 'keep'
      ? { text: html.trim(), title: null, lang: null, via: 'body' }
      : { drop: 'extract.not_html' };
  if (cfg.mode !== 'fast') return domExtract(html, cfg as Cfg & { mode: 'readability' | 'body' });
  const x = fastExtract(html, cfg);
  // markup cut short with nothing readable before the cut is what the DOM parser refuses too
  if (x.truncated && x.text.length === 0) return { drop: 'extract.parse_error' };
  if (x.truncated) tally?.count('extract.truncated_markup');
  if (x.depthCapped) tally?.count('extract.depth_capped');
  if (x.linkDense > 0) tally?.count('extract.link_dense', x.linkDense);
  return { text: x.text, title: x.title, lang: x.lang, via: 'fast' };
}

function rows(cfg: Cfg): RowSpec {
  const columns: Record<string, DataType> = { text: new Utf8Type() };
  if (cfg.title === 'column') columns.title = new Utf8Type();
  if (cfg.langHint) columns.html_lang = new Utf8Type();
  return {
    nulls: { drop: 'extract.null' },
    columns,
    rejects: cfg.rejects,
    batch: (batch, t) => {
      // a Binary text column (bytes as fetched) is decoded here, by BOM or <meta charset>
      const bytes = DT.isBinary(batch.getChild('text')?.type);
      return (value: string) => {
        let html = value;
        if (bytes) {
          const d = decodeHtmlBytes(value as unknown as Uint8Array);
          if (d.badLabel !== null) t.count('extract.bad_charset');
          html = d.text;
        }
        const x = extractMainText(html, cfg, t);
        if ('drop' in x) return x.drop;
        const text =
          cfg.title === 'prepend' && x.title && !x.text.startsWith(x.title) ? `${x.title}\n\n${x.text}` : x.text;
        if (text.length === 0) return 'extract.empty';
        if (text.length < cfg.minChars) return 'extract.too_short';
        if (x.via === 'body' && cfg.mode === 'readability') t.count('extract.fallback');
        return { text, title: x.title, html_lang: x.lang };
      };
    },
  };
}

export const extractHtml = defineRowOperator({
  id: 'clean/extract-html',
  description: 'main text of HTML pages (a fast single-pass extractor; Readability on linkedom as a mode)',
  module: import.meta.url,
  config: Config,
  input: () => schemaOf<Text>({ text: { type: new Utf8Type() } }),
  passthrough: true,
  // typed as Text: `title` and `html_lang` exist only when asked for
  output: (cfg: Cfg): Schema<Text> =>
    schemaOf<Record<string, Utf8>>({
      text: { type: new Utf8Type() },
      ...(cfg.title === 'column' ? { title: { type: new Utf8Type(), nullable: true } } : {}),
      ...(cfg.langHint ? { html_lang: { type: new Utf8Type(), nullable: true } } : {}),
    }) as unknown as Schema<Text>,
  rows,
});
