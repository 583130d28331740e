// The DOM paths of extract-html: Mozilla's Readability (the Firefox reader view) on a linkedom DOM, and
// when it finds no article (or one much shorter than the page, or the page nests too deep for it),
// the text of the page without scripts, styles and navigation ('body', also a mode of its own).
// Slow (~0.7 MB/s on the PostgreSQL manual) but the reference the fast extractor is measured against.
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { namesNavigation, NAV_TAGS, NEVER_SKIP, roleVerdict } from './boilerplate.ts';
import { domText, type DomNode } from './dom-text.ts';

export interface DomOptions {
  mode: 'readability' | 'body';
  maxElements: number;
  maxDepth: number;
  minCoverage: number;
}

export interface DomExtracted {
  text: string;
  title: string | null;
  lang: string | null;
  via: 'readability' | 'body';
}

const isBoilerplate = (el: DomNode): boolean => {
  const tag = el.localName ?? '';
  if (NEVER_SKIP.has(tag)) return false;
  if (NAV_TAGS.has(tag)) return true;
  const role = roleVerdict(el.getAttribute?.('role') ?? null);
  if (role !== null) return role === 'nav';
  const names = `${el.getAttribute?.('class') ?? ''} ${el.getAttribute?.('id') ?? ''}`;
  return namesNavigation(names);
};

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

interface DomDocument extends DomNode {
  title?: string;
  documentElement: DomNode | null;
}

/** The main text of one page through the DOM, or a drop reason. Throws nothing. */
export function domExtract(html: string, cfg: DomOptions): DomExtracted | { drop: string } {
  // the parser slows down superlinearly on pathological markup (200k nested tags: minutes), so a page
  // with too many tags is refused before parsing. (Readability's own maxElemsToParse counts with
  // getElementsByTagName('*'), which is empty under linkedom, so it never triggers.)
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
  const lang = doc.documentElement.getAttribute?.('lang')?.trim() || null;
  let body: string;
  try {
    // read before Readability, which rewrites the DOM. The root element, not <body>: <head> yields
    // no text, markup without <body> still has its text found, and linkedom's doctype has no nextSibling
    body = domText(doc.documentElement, { skip: isBoilerplate });
  } catch {
    return { drop: 'extract.parse_error' };
  }
  if (cfg.mode === 'readability' && depthAtMost(doc, cfg.maxDepth)) {
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
        return { text, title: article?.title?.trim() || title, lang, via: 'readability' };
    } catch {
      /* a DOM Readability cannot handle: use the fallback */
    }
  }
  return { text: body, title, lang, via: 'body' };
}
