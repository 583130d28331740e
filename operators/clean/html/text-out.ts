// The text an extractor writes: inline runs with their whitespace collapsed to single spaces, verbatim
// runs (pre), and breaks (1: newline, 2: blank line) that only take effect before the next text, so
// that empty elements leave no blank lines and the text never starts or ends with one. A mark taken
// before a block lets the block's text be taken back (a link-dense block found at its end).

export interface Mark {
  parts: number;
  chars: number;
  links: number;
  pending: number;
  lastSpace: boolean;
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 9 || c === 13 || c === 12;

export class TextOut {
  private parts: string[] = [];
  private pending = 0;
  private lastSpace = true;
  /** characters of text written (breaks not counted), and those of them inside links */
  chars = 0;
  links = 0;

  brk(n: number): void {
    if (n > this.pending) this.pending = n;
  }

  /** A separator space (between table cells) unless one or a break is already there. */
  space(): void {
    if (!this.lastSpace && this.pending === 0 && this.parts.length > 0) this.put(' ', false);
  }

  /** s[start, end) with whitespace runs collapsed to one space; false (nothing written) when the run
   * has a '&' (and `amp` says to look) and needs decoding first. Works on the input string itself. */
  inlineRange(s: string, start: number, end: number, inLink: boolean, amp = true): boolean {
    let i = start;
    // leading whitespace: one space, unless a space or break is already there
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    const lead = i > start && !this.lastSpace && this.pending === 0 && this.parts.length > 0;
    if (i >= end) {
      if (lead) this.put(' ', false);
      return true;
    }
    let out = '';
    let from = i;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c > 32) {
        if (c === 38 && amp) return false;
        i++;
        continue;
      }
      if (!isSpace(c)) {
        i++;
        continue;
      }
      // a run of whitespace: keep a single ' ' (the common case needs no copy)
      let j = i + 1;
      while (j < end && isSpace(s.charCodeAt(j))) j++;
      if (c !== 32 || j > i + 1) {
        out += s.slice(from, i) + ' ';
        from = j;
      }
      i = j;
    }
    out += s.slice(from, end);
    if (lead) this.put(' ', false);
    this.put(out, inLink);
    this.lastSpace = isSpace(out.charCodeAt(out.length - 1));
    return true;
  }

  inline(t: string, inLink: boolean): void {
    this.inlineRange(t, 0, t.length, inLink, false);
  }

  verbatim(t: string, inLink: boolean): void {
    if (t.length === 0) return;
    this.put(t, inLink);
    this.lastSpace = isSpace(t.charCodeAt(t.length - 1));
  }

  private put(t: string, inLink: boolean): void {
    if (this.pending > 0 && this.parts.length > 0) {
      this.trimEnd();
      // verbatim text may already end with the newlines the break asks for
      const last = this.parts[this.parts.length - 1] ?? '';
      let nl = 0;
      while (nl < 2 && last.charCodeAt(last.length - 1 - nl) === 10) nl++;
      if (this.pending > nl) this.parts.push(this.pending - nl === 2 ? '\n\n' : '\n');
    }
    this.pending = 0;
    this.parts.push(t);
    this.chars += t.length;
    if (inLink) this.links += t.length;
    this.lastSpace = t === ' ';
  }

  /** no spaces before a line break */
  private trimEnd(): void {
    const p = this.parts;
    while (p.length > 0) {
      const last = p[p.length - 1]!;
      const c = last.charCodeAt(last.length - 1);
      if (c !== 32 && c !== 9) return;
      const kept = last.trimEnd();
      if (kept.length > 0) {
        p[p.length - 1] = kept;
        return;
      }
      p.pop();
    }
  }

  mark(): Mark {
    return {
      parts: this.parts.length,
      chars: this.chars,
      links: this.links,
      pending: this.pending,
      lastSpace: this.lastSpace,
    };
  }

  /** Takes back everything written since `m`. */
  rollback(m: Mark): void {
    // (a break written since may have trimmed a space part from before the mark: never extend)
    if (this.parts.length > m.parts) this.parts.length = m.parts;
    this.chars = m.chars;
    this.links = m.links;
    this.pending = m.pending;
    this.lastSpace = m.lastSpace;
  }

  finish(): string {
    this.trimEnd();
    const s = this.parts.join('');
    return s.length > 0 && (isSpace(s.charCodeAt(0)) || isSpace(s.charCodeAt(s.length - 1))) ? s.trim() : s;
  }
}
