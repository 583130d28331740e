// trigram-utils' `clean` as one pass over UTF-16 code units, into a reused buffer padded with a space
// on each side (what franc's trigrams are cut from). trigram-utils does, in order:
//   replace /[\u0021-\u0040]+/g with ' ' (ASCII punctuation, symbols and digits), collapse /\s+/g to
//   ' ', trim, toLowerCase.
// Together: every maximal run of (those characters or \s) becomes one space, and none at either end.
// Lower-casing is per code unit from a table, except where String#toLowerCase depends on more than one
// unit: capital sigma (final or not, by context), U+0130 (becomes two units) and surrogates (astral
// letters). A sample with one of those is lower-cased by String#toLowerCase itself, after cleaning, as
// trigram-utils does.

/** 1: a code unit trigram-utils turns into a space (U+0021-U+0040, or \s / String#trim's whitespace) */
const SPACE = new Uint8Array(0x10000);
for (let c = 0x21; c <= 0x40; c++) SPACE[c] = 1;
for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff])
  SPACE[c] = 1;
for (let c = 0x2000; c <= 0x200a; c++) SPACE[c] = 1;

let LOWER: Uint16Array | undefined;
const CONTEXT = 0xffff; // marks units whose lower case is not a context-free single unit

function lowerTable(): Uint16Array {
  const t = new Uint16Array(0x10000);
  for (let c = 0; c < 0x10000; c++) {
    if (c >= 0xd800 && c <= 0xdfff) {
      t[c] = CONTEXT;
      continue;
    }
    const l = String.fromCharCode(c).toLowerCase();
    t[c] = l.length === 1 && c !== 0x03a3 && l.charCodeAt(0) !== CONTEXT ? l.charCodeAt(0) : CONTEXT;
  }
  return t;
}

/** Whitespace as String#trim and /\s/ see it, and trigram-utils' punctuation range: exported for tests. */
export const isCleanedToSpace = (c: number): boolean => SPACE[c] === 1;

export class SampleCleaner {
  /** ' ' + clean(sample) + ' ', in buf[0, length) */
  buf = new Uint16Array(4200);
  length = 0;

  /** Clean `value` into buf. */
  clean(value: string): void {
    LOWER ??= lowerTable();
    // toLowerCase can at most double a unit (U+0130 -> i + U+0307); 2 pads
    if (this.buf.length < 2 * value.length + 2) this.buf = new Uint16Array(2 * value.length + 2);
    const end = this.pass(value, LOWER);
    this.length = end >= 0 ? end : this.lowerNatively(this.pass(value, null));
  }

  /** One cleaning pass into buf, lower-casing by `lower` (or not, when null); the end including the
   * closing pad, or -1 when `lower` met a unit that needs String#toLowerCase. */
  private pass(value: string, lower: Uint16Array | null): number {
    const buf = this.buf;
    const n = value.length;
    let k = 1,
      pending = false,
      started = false;
    buf[0] = 0x20;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (SPACE[c] === 1) {
        pending = started;
        continue;
      }
      if (pending) {
        buf[k++] = 0x20;
        pending = false;
      }
      started = true;
      if (lower === null) buf[k++] = c;
      else {
        const l = lower[c]!;
        if (l === CONTEXT) return -1;
        buf[k++] = l;
      }
    }
    buf[k++] = 0x20;
    return k;
  }

  /** String#toLowerCase over the cleaned units between the pads (as trigram-utils does); the new end. */
  private lowerNatively(end: number): number {
    let s = '';
    for (let i = 1; i < end - 1; i += 1024)
      s += String.fromCharCode(...this.buf.subarray(i, Math.min(end - 1, i + 1024)));
    const lowered = s.toLowerCase();
    for (let i = 0; i < lowered.length; i++) this.buf[1 + i] = lowered.charCodeAt(i);
    this.buf[1 + lowered.length] = 0x20;
    return 2 + lowered.length;
  }
}
