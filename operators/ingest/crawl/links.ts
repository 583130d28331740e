// Link extraction by a tag scanner instead of a DOM: a crawler needs only <a href>, <area href> and
// <base href>, and a DOM parse costs ~15 ms for a large page (far below 100 pages/s). The scanner
// skips comments and the raw-text elements (script, style, textarea, title, template, xmp), where "<a" is not
// a tag, and understands quoted attribute values containing ">".

const TOKENS =
  /<!--[\s\S]*?(?:-->|$)|<(script|style|textarea|title|template|xmp)\b(?:[^>"']|"[^"]*"|'[^']*')*>[\s\S]*?(?:<\/\1\s*>|$)|<(a|area|base)\s((?:[^>"']|"[^"]*"|'[^']*')*)>/gi;
const ATTR = /([^\s"'>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?/g;

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Decode the character references that occur in URLs in attribute values. */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|([a-zA-Z]+));?/g, (m, dec?: string, hex?: string, name?: string) => {
    if (dec) return String.fromCodePoint(Math.min(Number(dec), 0x10ffff));
    if (hex) return String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff));
    return NAMED[name!.toLowerCase()] ?? m;
  });
}

export interface PageLinks {
  /** the first <base href> (as written), against which relative links resolve */
  base?: string;
  /** hrefs in document order, entities decoded, not yet resolved */
  hrefs: string[];
}

/** Hrefs of <a> and <area> (rel=nofollow ones left out unless asked) and the document's <base href>. */
export function extractLinks(html: string, opts: { nofollow?: boolean } = {}): PageLinks {
  const out: PageLinks = { hrefs: [] };
  TOKENS.lastIndex = 0;
  for (let m = TOKENS.exec(html); m; m = TOKENS.exec(html)) {
    const tag = m[2];
    if (!tag) continue; // comment or raw-text element: skipped whole
    const { href, rel } = attributes(m[3] ?? '');
    if (href === undefined) continue;
    if (tag.toLowerCase() === 'base') {
      // only the first <base> counts (HTML spec)
      out.base ??= href;
      continue;
    }
    if (!opts.nofollow && rel !== undefined && /(?:^|\s)nofollow(?:\s|$)/i.test(rel)) continue;
    out.hrefs.push(href);
  }
  return out;
}

/** The href and rel attributes of a tag's attribute text (the first of each, as browsers take). */
function attributes(text: string): { href?: string; rel?: string } {
  const out: { href?: string; rel?: string } = {};
  ATTR.lastIndex = 0;
  for (let a = ATTR.exec(text); a; a = ATTR.exec(text)) {
    const name = a[1]!.toLowerCase();
    if ((name === 'href' || name === 'rel') && out[name] === undefined)
      out[name] = decodeEntities(a[2] ?? a[3] ?? a[4] ?? '');
  }
  return out;
}
