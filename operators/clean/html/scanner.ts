// A single-pass HTML tokenizer over a string: text runs, start tags (with attribute spans, read on
// demand), end tags, and the raw-text elements' content (script, style, title, textarea...). Comments,
// doctypes, processing instructions and CDATA sections are skipped. Each step moves forward (indexOf
// and charCodeAt, no regex, no recursion), so time is linear in the input and memory is the spans of
// one tag. Broken markup follows the HTML standard's tokenizer: an unterminated comment, tag or quoted
// attribute value runs to the end of the input, and the scan reports that it was cut short.

import { F, FLAGS, NAMES, tagIdAt } from './tags.ts';

export interface ScanSink {
  text(s: string, start: number, end: number): void;
  /** `id` from tags.ts (0: a name past its table), `name` lower case; attributes through
   * `Scanner.attr` during the call */
  open(id: number, name: string, selfClosing: boolean): void;
  close(id: number, name: string): void;
  /** content of a raw-text or RCDATA element (its start tag was not given to `open`) */
  raw(name: string, start: number, end: number): void;
}

/** attributes kept per tag; further ones are skipped (they are rarely the ones read) */
const MAX_ATTRS = 32;

const isSpace = (c: number) => c === 32 || c === 10 || c === 9 || c === 13 || c === 12;
const isLetter = (c: number) => (c | 32) >= 97 && (c | 32) <= 122;

export class Scanner {
  /** [nameStart, nameEnd, valueStart, valueEnd] per attribute of the current tag */
  private readonly spans = new Int32Array(MAX_ATTRS * 4);
  private nAttrs = 0;
  private s = '';
  /** the input ended inside a tag, comment or raw-text element */
  truncated = false;

  /** The value of attribute `name` (lower case) of the tag being reported, '' when valueless, or null. */
  attr(name: string): string | null {
    const { s, spans } = this;
    for (let a = 0; a < this.nAttrs; a++) {
      const ns = spans[a * 4]!;
      const ne = spans[a * 4 + 1]!;
      if (ne - ns !== name.length) continue;
      let same = true;
      for (let k = 0; k < name.length && same; k++) same = (s.charCodeAt(ns + k) | 32) === name.charCodeAt(k);
      if (same) return s.slice(spans[a * 4 + 2]!, spans[a * 4 + 3]!);
    }
    return null;
  }

  /** A slice of the input being scanned. */
  src(start: number, end: number): string {
    return this.s.slice(start, end);
  }

  get hasAttrs(): boolean {
    return this.nAttrs > 0;
  }

  scan(s: string, sink: ScanSink): void {
    this.s = s;
    this.truncated = false;
    const n = s.length;
    let pos = 0;
    while (pos < n) {
      const lt = s.indexOf('<', pos);
      if (lt < 0) {
        sink.text(s, pos, n);
        return;
      }
      if (lt > pos) sink.text(s, pos, lt);
      const c = s.charCodeAt(lt + 1);
      if (isLetter(c)) {
        let j = lt + 2;
        for (; j < n; j++) {
          const d = s.charCodeAt(j);
          if (isSpace(d) || d === 47 || d === 62) break;
        }
        const id = tagIdAt(s, lt + 1, j);
        const name = id === 0 ? s.slice(lt + 1, j).toLowerCase() : NAMES[id]!;
        const end = this.attributes(j);
        if (end < 0) return this.cut();
        const selfClosing = s.charCodeAt(end - 1) === 47 && end - 1 >= j;
        pos = end + 1;
        if (FLAGS[id]! & F.RAW) {
          const close = name === 'plaintext' ? n : this.rawEnd(name, pos);
          sink.raw(name, pos, close);
          if (close >= n) return name === 'plaintext' ? undefined : this.cut();
          pos = close; // the end tag is read as one next
        } else sink.open(id, name, selfClosing);
      } else if (c === 47 /* / */) {
        if (isLetter(s.charCodeAt(lt + 2))) {
          let j = lt + 3;
          for (; j < n; j++) {
            const d = s.charCodeAt(j);
            if (isSpace(d) || d === 47 || d === 62) break;
          }
          const id = tagIdAt(s, lt + 2, j);
          const end = this.attributes(j);
          if (end < 0) return this.cut();
          sink.close(id, id === 0 ? s.slice(lt + 2, j).toLowerCase() : NAMES[id]!);
          pos = end + 1;
        } else pos = this.skipTo('>', lt + 2, 1); // "</>" or "</ 3": a bogus comment
      } else if (c === 33 /* ! */) {
        if (s.startsWith('--', lt + 2)) {
          // "<!-->" and "<!--->" are complete (empty) comments
          const from = s.charCodeAt(lt + 4) === 62 ? lt + 1 : s.startsWith('->', lt + 4) ? lt + 2 : lt + 4;
          pos = this.skipTo('-->', from, 3);
        } else if (s.startsWith('[CDATA[', lt + 2)) pos = this.skipTo(']]>', lt + 9, 3);
        else pos = this.skipTo('>', lt + 2, 1); // doctype and other declarations
      } else if (c === 63 /* ? */) pos = this.skipTo('>', lt + 2, 1);
      else {
        sink.text(s, lt, lt + 1); // a '<' that opens no tag is text
        pos = lt + 1;
      }
    }
  }

  private cut(): void {
    this.truncated = true;
  }

  private skipTo(marker: string, from: number, len: number): number {
    const at = this.s.indexOf(marker, from);
    if (at < 0) {
      this.truncated = true;
      return this.s.length;
    }
    return at + len;
  }

  /** Reads attributes from `j` to the tag's '>'; its index, or -1 when the input ends first. */
  private attributes(j: number): number {
    const { s, spans } = this;
    const n = s.length;
    this.nAttrs = 0;
    while (j < n) {
      let c = s.charCodeAt(j);
      if (isSpace(c) || c === 47) {
        j++;
        continue;
      }
      if (c === 62) return j;
      const ns = j;
      for (j++; j < n; j++) {
        c = s.charCodeAt(j);
        if (isSpace(c) || c === 47 || c === 62 || c === 61) break;
      }
      const ne = j;
      while (j < n && isSpace(s.charCodeAt(j))) j++;
      let vs = j;
      let ve = j;
      if (s.charCodeAt(j) === 61 /* = */) {
        j++;
        while (j < n && isSpace(s.charCodeAt(j))) j++;
        const q = s.charCodeAt(j);
        if (q === 34 || q === 39) {
          const close = s.indexOf(q === 34 ? '"' : "'", j + 1);
          if (close < 0) return -1;
          vs = j + 1;
          ve = close;
          j = close + 1;
        } else {
          vs = j;
          for (; j < n; j++) {
            c = s.charCodeAt(j);
            if (isSpace(c) || c === 62) break;
          }
          ve = j;
        }
      }
      if (this.nAttrs < MAX_ATTRS) {
        const k = this.nAttrs++ * 4;
        spans[k] = ns;
        spans[k + 1] = ne;
        spans[k + 2] = vs;
        spans[k + 3] = ve;
      }
    }
    return -1;
  }

  /** Index of the end tag closing raw-text element `name` from `from` ("</name" + space, / or >), or n. */
  private rawEnd(name: string, from: number): number {
    const s = this.s;
    const n = s.length;
    for (let at = s.indexOf('</', from); at >= 0; at = s.indexOf('</', at + 2)) {
      let k = 0;
      while (k < name.length && (s.charCodeAt(at + 2 + k) | 32) === name.charCodeAt(k)) k++;
      if (k < name.length) continue;
      const after = s.charCodeAt(at + 2 + k);
      if (at + 2 + k >= n || isSpace(after) || after === 47 || after === 62) return at;
    }
    return n;
  }
}
