// Main text of HTML pages: Mozilla's Readability (the Firefox reader view) on a linkedom DOM, and
// when it finds no article (or one much shorter than the page, or the page nests too deep for it),
// the text of the page without scripts, styles and navigation. Text keeps paragraph breaks.
// A pure kernel: it runs on the worker pool. Rows it cannot use are dropped with a counted reason.
import type { DataType, Schema, Utf8 } from 'apache-arrow';
import { Utf8 as Utf8Type } from 'apache-arrow';
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { z } from 'zod';
import type { RowSpec } from '../../src/core/row-kernel.ts';
import { defineRowOperator, rowRejectsConfig } from '../../src/core/row-operator.ts';
import { schemaOf } from '../../src/schema/index.ts';
import { domText, type DomNode } from './html/dom-text.ts';

const Config = z.object({
  /** 'column' adds a nullable `title` column; 'prepend' puts the title as the first paragraph */
  title: z
    .enum(['none', 'column', 'prepend'])
    .default('none')
    .describe(
      "the page title: left out ('none'), a nullable title column ('column'), or the first paragraph of the text " +
        "('prepend')",
    ),
  /** pages whose extracted text is shorter than this (characters) are dropped */
  minChars: z
    .number()
    .int()
    .min(0)
    .default(1)
    .describe('pages whose extracted text is shorter than this many characters are dropped'),
  /** larger inputs are dropped rather than parsed (bytes of UTF-16 text, roughly characters) */
  maxChars: z
    .number()
    .int()
    .min(1)
    .default(8_000_000)
    .describe('larger inputs (UTF-16 code units, roughly characters) are dropped unparsed (extract.too_large)'),
  /** pages with more than twice this many tags are dropped unparsed (extract.too_many_elements):
   * parsing slows superlinearly on huge markup. (Readability's own maxElemsToParse counts with
   * getElementsByTagName('*'), which is empty under linkedom, so it never triggers.) */
  maxElements: z
    .number()
    .int()
    .min(0)
    .default(50_000)
    .describe(
      'pages with more than twice this many tags are dropped unparsed (extract.too_many_elements); 0: no limit',
    ),
  /** Readability's time grows steeply with nesting depth (15k nested divs: a minute); deeper pages
   * get the fallback text */
  maxDepth: z
    .number()
    .int()
    .min(1)
    .default(256)
    .describe(
      'pages nesting elements deeper than this skip Readability and get the fallback text (Readability slows ' +
        'steeply with depth)',
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
      "when Readability's article is shorter than this fraction of the fallback text, the fallback is used; 0: " +
        "always Readability's article",
    ),
  /** 'readability' then fallback (default), or the fallback alone (faster, keeps more boilerplate) */
  method: z
    .enum(['readability', 'body'])
    .default('readability')
    .describe(
      "'readability': Readability's article, else the fallback (the page's text without scripts, styles and " +
        "navigation); 'body': the fallback alone (faster, keeps more boilerplate)",
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
type Titled = { text: Utf8; title: Utf8 };

// Navigation, headers and footers by tag, ARIA role, or a class/id token naming them (DocBook's
// navheader/navfooter, Sphinx's sphinxsidebar and related): what the fallback leaves out. Whole
// tokens only: "wy-body-for-nav" on a <body> must not hide the page.
const NAV_TAGS = new Set(['nav', 'header', 'footer', 'aside', 'form']);
const NEVER_SKIP = new Set(['html', 'body', 'main', 'article']);
const NAV_ROLES = /^(navigation|banner|contentinfo|menu|menubar|search|complementary)$/;
const NAV_TOKENS =
  /^(nav|navbar|navigation|navheader|navfooter|nav-?menu|menu|menubar|sidebar|sphinxsidebar|breadcrumbs?|toc|footer|header|site-header|site-footer|skip-?links?|cookie-?(banner|notice|consent)|related)$/i;
const isBoilerplate = (el: DomNode): boolean => {
  const tag = el.localName ?? '';
  if (NEVER_SKIP.has(tag)) return false;
  if (NAV_TAGS.has(tag)) return true;
  const role = el.getAttribute?.('role');
  if (role === 'main') return false;
  if (role && NAV_ROLES.test(role)) return true;
  const names = `${el.getAttribute?.('class') ?? ''} ${el.getAttribute?.('id') ?? ''}`.trim();
  return names.length > 0 && names.split(/\s+/).some((t) => NAV_TOKENS.test(t));
};

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

/** True when no element of the tree is nested deeper than `max` (walked without recursion). */
function depthAtMost(root: DomNode, max: number): boolean {
  const stack: Array<[DomNode, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [node, d] = stack.pop()!;
    if (d > max) return false;
    for (let c = node.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) stack.push([c, d + 1]);
  }
  return true;
}

function countTags(html: string): number {
  let n = 0;
  for (let i = html.indexOf('<'); i >= 0; i = html.indexOf('<', i + 1)) n++;
  return n;
}

export interface Extracted {
  text: string;
  title: string | null;
  via: 'readability' | 'body';
}

interface DomDocument extends DomNode {
  title?: string;
  documentElement: DomNode | null;
}

/** The main text of one page, or a drop reason. Throws nothing. */
export function extractMainText(html: string, cfg: Cfg): Extracted | { drop: string } {
  if (html.length > cfg.maxChars) return { drop: 'extract.too_large' };
  if (looksBinary(html)) return { drop: 'extract.binary' };
  if (!LOOKS_HTML.test(html))
    return cfg.nonHtml === 'keep' ? { text: html.trim(), title: null, via: 'body' } : { drop: 'extract.not_html' };
  // the parser slows down superlinearly on pathological markup (200k nested tags: minutes), so a page
  // with too many tags is refused before parsing
  if (cfg.maxElements > 0 && countTags(html) > cfg.maxElements * 2) return { drop: 'extract.too_many_elements' };
  let doc: DomDocument;
  try {
    doc = parseHTML(html).document as unknown as DomDocument;
  } catch {
    return { drop: 'extract.parse_error' };
  }
  // markup the parser could not build a document from (e.g. "<not html" alone): no root element
  if (!doc.documentElement) return { drop: 'extract.parse_error' };
  const title = (() => {
    try {
      return (doc.title ?? '').trim() || null;
    } catch {
      return null;
    }
  })();
  let body: string;
  try {
    // read before Readability, which rewrites the DOM. The root element, not <body>: <head> yields
    // no text, markup without <body> still has its text found, and linkedom's doctype has no nextSibling
    body = domText(doc.documentElement, { skip: isBoilerplate });
  } catch {
    return { drop: 'extract.parse_error' };
  }
  if (cfg.method === 'readability' && depthAtMost(doc, cfg.maxDepth)) {
    try {
      // classes kept so that navigation Readability left in (on pages that are all navigation, like a
      // chapter's table of contents) is skipped as in the fallback
      const reader = new Readability<DomNode>(doc as never, {
        keepClasses: true,
        serializer: (n) => n as unknown as DomNode,
      });
      const article = reader.parse();
      const text = article?.content ? domText(article.content, { skip: isBoilerplate }) : '';
      if (text.length > 0 && text.length >= cfg.minCoverage * body.length)
        return { text, title: article?.title?.trim() || title, via: 'readability' };
    } catch {
      /* a DOM Readability cannot handle: use the fallback */
    }
  }
  return { text: body, title, via: 'body' };
}

function rows(cfg: Cfg): RowSpec {
  const columns: Record<string, DataType> = { text: new Utf8Type() };
  if (cfg.title === 'column') columns.title = new Utf8Type();
  return {
    nulls: { drop: 'extract.null' },
    columns,
    rejects: cfg.rejects,
    batch: (_batch, t) => (html: string) => {
      const x = extractMainText(html, cfg);
      if ('drop' in x) return x.drop;
      const text =
        cfg.title === 'prepend' && x.title && !x.text.startsWith(x.title) ? `${x.title}\n\n${x.text}` : x.text;
      if (text.length === 0) return 'extract.empty';
      if (text.length < cfg.minChars) return 'extract.too_short';
      if (x.via === 'body') t.count('extract.fallback');
      return { text, title: x.title };
    },
  };
}

export const extractHtml = defineRowOperator({
  id: 'clean/extract-html',
  description: 'main text of HTML pages (Readability on linkedom, body text without navigation as fallback)',
  module: import.meta.url,
  config: Config,
  input: () => schemaOf<Text>({ text: { type: new Utf8Type() } }),
  passthrough: true,
  // typed as Text: the `title` column exists only with title: 'column'
  output: (cfg: Cfg): Schema<Text> =>
    cfg.title === 'column'
      ? (schemaOf<Titled>({
          text: { type: new Utf8Type() },
          title: { type: new Utf8Type(), nullable: true },
        }) as unknown as Schema<Text>)
      : schemaOf<Text>({ text: { type: new Utf8Type() } }),
  rows,
});
