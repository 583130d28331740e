// franc's script detection in one pass. franc runs one global regex per script (30 of them, from
// franc/expressions.js) over the sample and takes the script with the most matches, the first in
// declaration order on a tie. Here those regexes' sources are parsed once into a table from code point
// to "class" (the set of scripts whose regex matches it: Han is in both `cmn` and `jpn`), so a sample
// is read once, counting classes. The regexes have no `u` flag: an astral character matches as a
// (high, low) surrogate pair, and a lone surrogate matches nothing, which is what reading code points
// from the sample gives. test/operators/clean/language/scripts.test.ts checks the table against the
// regexes on every code point.
import { expressions } from 'franc/expressions.js';

/** franc's script names, in its order (a tie goes to the earlier one) */
export const SCRIPT_NAMES: readonly string[] = Object.keys(expressions);

/** Code point sets of one regex source: a `|` of sequences of one or two atoms ([class] or a char). */
function parseSource(source: string, where: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let i = 0;
  const char = (): number => {
    if (source.startsWith('\\u', i)) {
      const v = Number.parseInt(source.slice(i + 2, i + 6), 16);
      i += 6;
      return v;
    }
    if (source[i] === '\\') throw new Error(`scripts: unsupported escape at ${i} in franc's ${where} expression`);
    return source.charCodeAt(i++);
  };
  const atom = (): Array<[number, number]> => {
    if (source[i] !== '[') {
      const c = char();
      return [[c, c]];
    }
    i++;
    const out: Array<[number, number]> = [];
    while (source[i] !== ']') {
      const lo = char();
      if (source[i] === '-' && source[i + 1] !== ']') {
        i++;
        out.push([lo, char()]);
      } else out.push([lo, lo]);
    }
    i++;
    return out;
  };
  while (i < source.length) {
    const first = atom();
    if (i < source.length && source[i] !== '|') {
      // a surrogate pair: every (high, low) combination is one astral code point
      const second = atom();
      for (const [h0, h1] of first)
        for (let h = h0; h <= h1; h++)
          for (const [l0, l1] of second)
            ranges.push([
              0x10000 + ((h - 0xd800) << 10) + (l0 - 0xdc00),
              0x10000 + ((h - 0xd800) << 10) + (l1 - 0xdc00),
            ]);
    } else ranges.push(...first);
    if (source[i] === '|') i++;
    else if (i < source.length) throw new Error(`scripts: unexpected "${source[i]}" at ${i} in franc's ${where}`);
  }
  return ranges;
}

interface Table {
  /** class of each BMP code unit (0: no script) */
  bmp: Uint8Array;
  /** astral code points with a class, as sorted disjoint ranges [astralLo[i], astralHi[i]] of class
   * astralClass[i] (astral letters are rare in text; a binary search is cheap and the table small) */
  astralLo: Int32Array;
  astralHi: Int32Array;
  astralClass: Uint8Array;
  /** scripts (indices into SCRIPT_NAMES) of each class */
  classes: number[][];
}

let table: Table | undefined;

function build(): Table {
  // a code point's script set as a bit mask (30 scripts fit in 32 bits), then masks numbered as classes
  const bmpMask = new Uint32Array(0x10000);
  const astralRanges: Array<[number, number, number]> = [];
  SCRIPT_NAMES.forEach((name, s) => {
    for (const [lo, hi] of parseSource(expressions[name]!.source, name)) {
      if (lo >= 0x10000) astralRanges.push([lo, hi, 1 << s]);
      else for (let c = lo; c <= hi; c++) bmpMask[c]! |= 1 << s;
    }
  });
  const classOf = new Map<number, number>([[0, 0]]);
  const classes: number[][] = [[]];
  const cls = (mask: number) => {
    let k = classOf.get(mask);
    if (k === undefined) {
      k = classes.length;
      classOf.set(mask, k);
      classes.push(SCRIPT_NAMES.map((_, s) => s).filter((s) => (mask >>> s) & 1));
    }
    return k;
  };
  const bmp = new Uint8Array(0x10000);
  // runs of one mask are long (whole blocks): look a class up only where the mask changes
  for (let c = 0, prev = -1, k = 0; c < 0x10000; c++) {
    if (bmpMask[c] !== prev) (prev = bmpMask[c]!), (k = cls(prev));
    bmp[c] = k;
  }
  // elementary intervals between the ranges' boundaries, each with the mask of the ranges covering it
  const cuts = [...new Set(astralRanges.flatMap(([lo, hi]) => [lo, hi + 1]))].sort((x, y) => x - y);
  const lo: number[] = [],
    hi: number[] = [],
    k: number[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const a = cuts[i]!,
      b = cuts[i + 1]! - 1;
    let mask = 0;
    for (const [rl, rh, bit] of astralRanges) if (rl <= a && b <= rh) mask |= bit;
    if (mask === 0) continue;
    const c = cls(mask);
    if (lo.length > 0 && hi[hi.length - 1] === a - 1 && k[k.length - 1] === c) hi[hi.length - 1] = b;
    else lo.push(a), hi.push(b), k.push(c);
  }
  if (classes.length > 255) throw new Error('scripts: more than 255 script combinations; widen the class table');
  return {
    bmp,
    astralLo: Int32Array.from(lo),
    astralHi: Int32Array.from(hi),
    astralClass: Uint8Array.from(k),
    classes,
  };
}

/** The class of an astral code point (0: none). */
function astralClassOf(t: Table, cp: number): number {
  let l = 0,
    h = t.astralLo.length - 1;
  while (l <= h) {
    const m = (l + h) >> 1;
    if (cp < t.astralLo[m]!) h = m - 1;
    else if (cp > t.astralHi[m]!) l = m + 1;
    else return t.astralClass[m]!;
  }
  return 0;
}

/** The table (built on first use, once per thread). */
export const scriptTable = (): Table => {
  table ??= build();
  return table;
};

let perClassBuf: Int32Array | undefined;

/** The scripts (indices into SCRIPT_NAMES) whose franc regex matches code point `cp`. */
export function scriptsOf(cp: number): readonly number[] {
  const t = scriptTable();
  if (cp >= 0xd800 && cp <= 0xdfff) return t.classes[0]!;
  return t.classes[cp < 0x10000 ? t.bmp[cp]! : astralClassOf(t, cp)]!;
}

/** Matches of each script's regex in `value` (indexed like SCRIPT_NAMES), counted in one pass. */
export function scriptCounts(value: string, out = new Int32Array(SCRIPT_NAMES.length)): Int32Array {
  const t = scriptTable();
  const { bmp, classes } = t;
  perClassBuf ??= new Int32Array(classes.length);
  const perClass = perClassBuf.fill(0);
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = value.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        perClass[astralClassOf(t, 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00))]!++;
        i++;
        continue;
      }
    }
    perClass[bmp[c]!]!++;
  }
  out.fill(0);
  for (let k = 1; k < classes.length; k++) {
    const m = perClass[k]!;
    if (m > 0) for (const s of classes[k]!) out[s]! += m;
  }
  return out;
}

/** franc's getTopScript: the script with the most matches (the first on a tie, so with no match at all
 * the first script, with count 0) and its count. */
export function topScript(value: string): { script: number; count: number } {
  const counts = scriptCounts(value);
  let script = 0;
  for (let s = 1; s < counts.length; s++) if (counts[s]! > counts[script]!) script = s;
  return { script, count: counts[script]! };
}
