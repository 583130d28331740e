// The fast main-text extractor: one pass of the scanner, a stack of open elements (bounded by
// maxDepth, no recursion), and text written as it arrives. Boilerplate is left out as it opens
// (navigation tags, roles and class/id tokens, hidden elements, never-text elements) or taken back
// when it closes (a block whose text is mostly link text). Headings, paragraphs and blocks give blank
// lines, list items and rows their own lines, table cells a space; <pre> keeps its whitespace.
import { hiddenByStyle, namesNavigation, NAV_TAGS, NEVER_SKIP, roleVerdict } from './boilerplate.ts';
import { decodeEntities } from './entities.ts';
import { Scanner, type ScanSink } from './scanner.ts';
import * as T from './tags.ts';
import { tagId } from './tags.ts';
import { TextOut, type Mark } from './text-out.ts';

export interface FastOptions {
  /** elements nested deeper are not tracked: their text is kept, their breaks and rules are not */
  maxDepth: number;
  /** a block (div, list, table, section) whose link text exceeds this fraction of its text is dropped */
  linkDensity: number;
}

export interface FastResult {
  text: string;
  title: string | null;
  /** <html lang> (or xml:lang), as written */
  lang: string | null;
  /** the input ended inside a tag, comment, quoted attribute or raw-text element */
  truncated: boolean;
  /** elements were nested deeper than maxDepth */
  depthCapped: boolean;
  /** blocks left out for link density */
  linkDense: number;
}

interface Frame {
  id: number;
  name: string;
  flags: number;
  skip: boolean;
  mark: Mark | null;
}

// class/id values repeat across a site's pages: their verdict is remembered (bounded in entries and
// in the length of the values kept)
const navNames = new Map<string, boolean>();
function navByNames(v: string): boolean {
  if (v.length > 200) return namesNavigation(v);
  let r = navNames.get(v);
  if (r === undefined) {
    if (navNames.size > 20_000) navNames.clear();
    r = namesNavigation(v);
    navNames.set(v, r);
  }
  return r;
}

// HTML's whitespace only: a no-break space in a title is the author's ("2.6.&nbsp;Joins")
const collapse = (s: string) => s.replace(/[ \t\n\r\f]+/g, ' ').replace(/^ | $/g, '');
const ids = (names: string) => new Set(names.split(' ').map(tagId));
const P = tagId('p');
const LI = tagId('li');
const DT = tagId('dt');
const DD = tagId('dd');
const TR = tagId('tr');
const TD = tagId('td');
const TH = tagId('th');
const HEAD = tagId('head');
const A = tagId('a');
const OPTION = tagId('option');
const OPTGROUP = tagId('optgroup');
const HTML = tagId('html');
const BODY = tagId('body');
const BR = tagId('br');
const HR = tagId('hr');
const GROUPS = [...ids('tbody thead tfoot')];
// the standard's scopes: elements an end tag or implied end does not search past
const SCOPE = ids('html table td th caption template object marquee applet button');
const LIST_SCOPE = new Set([...SCOPE, ...ids('ul ol')]);
const DL_SCOPE = new Set([...SCOPE, tagId('dl')]);
const ROW_SCOPE = ids('html table tbody thead tfoot template');
const CELL_SCOPE = ids('html table tr tbody thead tfoot template');
const TOP_SCOPE = ids('html table template');

class Extractor implements ScanSink {
  readonly out = new TextOut();
  readonly scanner = new Scanner();
  private readonly frames: Frame[] = [];
  /** open elements by tag id, so that end tags with nothing to close cost no stack search */
  private readonly counts = new Int32Array(4096);
  private depth = 0;
  private skipping = 0;
  private preDepth = 0;
  private preStart = false;
  private links = 0;
  /** open <p>: link text inside a paragraph counts as prose for link density (a glossary's linked
   * definitions, a sentence that is one link), navigation menus rarely put their links in one */
  private paras = 0;
  private foreign = 0;
  title: string | null = null;
  lang: string | null = null;
  depthCapped = false;
  linkDense = 0;

  constructor(private readonly o: FastOptions) {}

  text(s: string, start: number, end: number): void {
    if (this.skipping > 0) {
      // text right inside <head> starts the body (markup that never closes its head)
      if (this.frames[this.depth - 1]?.id !== HEAD || s.slice(start, end).trim().length === 0) return;
      this.closeNearest(HEAD, '', TOP_SCOPE);
      if (this.skipping > 0) return;
    }
    const inLink = this.links > 0 && this.paras === 0;
    if (this.preDepth === 0 && this.out.inlineRange(s, start, end, inLink)) return;
    let t = s.slice(start, end);
    if (t.indexOf('&') >= 0) t = decodeEntities(t);
    if (this.preDepth > 0) {
      // a newline right after <pre> is not content
      if (this.preStart) t = t.charCodeAt(0) === 10 ? t.slice(1) : t.startsWith('\r\n') ? t.slice(2) : t;
      this.preStart = false;
      this.out.verbatim(t, inLink);
    } else this.out.inline(t, inLink);
  }

  raw(name: string, start: number, end: number): void {
    if (name === 'title') {
      if (this.title === null && this.foreign === 0)
        this.title = collapse(decodeEntities(this.scanner.src(start, end)));
      return;
    }
    if (this.skipping > 0 || (name !== 'xmp' && name !== 'plaintext')) return;
    // xmp and plaintext are shown as written
    this.closeNearest(P, '', SCOPE);
    this.out.brk(2);
    this.out.verbatim(this.scanner.src(start, end), false);
    this.out.brk(2);
  }

  open(id: number, name: string, selfClosing: boolean): void {
    const flags = T.FLAGS[id]!;
    if (id === HTML) {
      if (this.lang === null) this.lang = this.scanner.attr('lang') ?? this.scanner.attr('xml:lang');
      return;
    }
    if (this.counts[HEAD]! > 0 && !(flags & T.F.HEAD_OK)) this.closeNearest(HEAD, '', TOP_SCOPE);
    if (id === BODY) return;
    this.implied(id, flags);
    if (flags & T.F.VOID) {
      if (this.skipping === 0 && (id === BR || id === HR)) this.out.brk(id === BR ? 1 : 2);
      return;
    }
    if (selfClosing && this.foreign > 0) return; // <path/> in SVG ends itself; in HTML the "/" means nothing
    const block = flags & T.F.PARAGRAPH ? 2 : flags & T.F.LINE ? 1 : 0;
    if (this.depth >= this.o.maxDepth) {
      this.depthCapped = true;
      if (block && this.skipping === 0) this.out.brk(block);
      return;
    }
    const skip = this.skipping === 0 && this.boilerplate(name, flags);
    let f = this.frames[this.depth];
    if (!f) {
      f = { id, name, flags, skip, mark: null };
      this.frames[this.depth] = f;
    }
    f.id = id;
    f.name = name;
    f.flags = flags;
    f.skip = skip;
    f.mark = null;
    this.depth++;
    this.counts[id]!++;
    if (skip) this.skipping++;
    if (flags & T.F.PRE) {
      this.preDepth++;
      this.preStart = true;
    }
    if (id === A) this.links++;
    else if (id === P) this.paras++;
    if (flags & T.F.FOREIGN) this.foreign++;
    if (this.skipping > 0) return;
    if (block) this.out.brk(block);
    else if (flags & T.F.CELL) this.out.space();
    if (this.o.linkDensity < 1 && flags & T.F.LINK_BLOCK) f.mark = this.out.mark();
  }

  close(id: number, name: string): void {
    if (id === BR) {
      if (this.skipping === 0) this.out.brk(1);
      return;
    }
    if (id === HTML || id === BODY) return;
    if (this.counts[id] === 0) {
      if (id === P && this.skipping === 0) this.out.brk(2); // "</p>" alone is an empty paragraph
      return;
    }
    const flags = T.FLAGS[id]!;
    this.closeNearest(id, name, flags & T.F.SCOPE ? TOP_SCOPE : id === LI ? LIST_SCOPE : SCOPE);
  }

  /** Closes everything still open (end of input). */
  end(): void {
    while (this.depth > 0) this.pop();
  }

  /** The standard's implied end tags for a start tag. */
  private implied(id: number, flags: number): void {
    if (flags & T.F.CLOSES_P && this.counts[P]! > 0) this.closeNearest(P, '', SCOPE);
    if (id === LI) this.closeNearest(LI, '', LIST_SCOPE);
    else if (id === DT || id === DD) {
      this.closeNearest(DT, '', DL_SCOPE);
      this.closeNearest(DD, '', DL_SCOPE);
    } else if (id === TR) this.closeNearest(TR, '', ROW_SCOPE);
    else if (id === TD || id === TH) {
      this.closeNearest(TD, '', CELL_SCOPE);
      this.closeNearest(TH, '', CELL_SCOPE);
    } else if (GROUPS.includes(id)) for (const g of GROUPS) this.closeNearest(g, '', TOP_SCOPE);
    else if (id === OPTION || id === OPTGROUP) {
      if (this.depth > 0 && this.frames[this.depth - 1]!.id === OPTION) this.pop();
    } else if (flags & T.F.HEADING && this.depth > 0 && this.frames[this.depth - 1]!.flags & T.F.HEADING) this.pop();
  }

  /** Pops up to and including the nearest open `id` (by `name` for the shared id 0), unless an
   * element of `bound` comes first. */
  private closeNearest(id: number, name: string, bound: Set<number>): void {
    if (this.counts[id] === 0) return;
    for (let k = this.depth - 1; k >= 0; k--) {
      const f = this.frames[k]!;
      if (f.id === id && (id !== 0 || f.name === name)) {
        while (this.depth > k) this.pop();
        return;
      }
      if (bound.has(f.id)) return;
    }
  }

  private pop(): void {
    const f = this.frames[--this.depth]!;
    this.counts[f.id]!--;
    if (f.flags & T.F.PRE) this.preDepth--;
    if (f.id === A) this.links--;
    else if (f.id === P) this.paras--;
    if (f.flags & T.F.FOREIGN) this.foreign--;
    if (f.skip) {
      this.skipping--;
      return;
    }
    if (this.skipping > 0) return;
    const m = f.mark;
    if (m) {
      const chars = this.out.chars - m.chars;
      if (chars > 0 && this.out.links - m.links > this.o.linkDensity * chars) {
        this.out.rollback(m);
        this.linkDense++;
      }
    }
    if (f.flags & (T.F.PARAGRAPH | T.F.LINE)) this.out.brk(f.flags & T.F.PARAGRAPH ? 2 : 1);
  }

  private boilerplate(name: string, flags: number): boolean {
    if (flags & T.F.NEVER_TEXT) return true;
    const sc = this.scanner;
    if (NEVER_SKIP.has(name)) return false;
    if (!sc.hasAttrs) return NAV_TAGS.has(name);
    if (sc.attr('hidden') !== null || sc.attr('aria-hidden') === 'true') return true;
    const style = sc.attr('style');
    if (style !== null && hiddenByStyle(style)) return true;
    if (flags & T.F.INLINE) return false;
    const role = roleVerdict(sc.attr('role'));
    if (role !== null) return role === 'nav';
    if (NAV_TAGS.has(name)) return true;
    const cls = sc.attr('class');
    if (cls !== null && navByNames(cls)) return true;
    const id = sc.attr('id');
    return id !== null && navByNames(id);
  }
}

/** The main text of one HTML string. Linear time; memory bounded by the input and maxDepth. */
export function fastExtract(html: string, o: FastOptions): FastResult {
  const x = new Extractor(o);
  x.scanner.scan(html.charCodeAt(0) === 0xfeff ? html.slice(1) : html, x);
  x.end();
  return {
    text: x.out.finish(),
    title: x.title || null,
    lang: x.lang?.trim() || null,
    truncated: x.scanner.truncated,
    depthCapped: x.depthCapped,
    linkDense: x.linkDense,
  };
}
