// Character classes the tiktoken pre-tokenizer patterns use, as bit flags per code point, so the
// hand-written scanners classify a character with one array read instead of a regex test. The flags
// are computed with the very regexes (V8, `u` flag) the patterns use, so scanner and pattern agree by
// construction on every code point, including the ones where JS differs from Rust's regex crate
// (JS `\s` has U+FEFF and not U+0085).
//
// Plane 0 is tabulated at load (64 KiB); other planes only when text first uses them (emoji,
// historic scripts), so memory stays at most 17 x 64 KiB.

/** \p{L} */
export const LETTER = 1;
/** \p{N} */
export const NUMBER = 2;
/** \s (JS definition) */
export const SPACE = 4;
/** [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]: o200k's "upper-case word part" */
export const UPPERISH = 8;
/** [\p{Ll}\p{Lm}\p{Lo}\p{M}]: o200k's "lower-case word part" */
export const LOWERISH = 16;
/** \r or \n */
export const NEWLINE = 32;
/** a high surrogate: the flags are those of the code point it starts, if a low surrogate follows */
export const HIGH_SURROGATE = 64;

const classes: Array<[number, RegExp]> = [
  [LETTER, /\p{L}+/gu],
  [NUMBER, /\p{N}+/gu],
  [SPACE, /\s+/gu],
  [UPPERISH, /[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+/gu],
  [LOWERISH, /[\p{Ll}\p{Lm}\p{Lo}\p{M}]+/gu],
];

// One string holding every code point of the plane in order (surrogates left out: they would pair
// up), matched once per class: 5 regex scans instead of 5 x 65536 tests. Built in typed arrays (a
// number[] per code unit took ~25 ms of the ~45 a process paid at load).
function planeTable(plane: number): Uint8Array {
  const t = new Uint8Array(0x10000);
  const width = plane === 0 ? 1 : 2; // UTF-16 code units per code point
  const units = new Uint16Array(width * (plane === 0 ? 0x10000 - 0x800 : 0x10000));
  const lowAt = new Uint16Array(units.length); // low 16 bits of the code point at each unit
  let u = 0;
  for (let lo = 0; lo < 0x10000; lo++) {
    if (plane === 0) {
      if (lo >= 0xd800 && lo <= 0xdfff) continue;
      units[u] = lo;
      lowAt[u++] = lo;
    } else {
      const v = (plane << 16) + lo - 0x10000;
      units[u] = 0xd800 + (v >> 10);
      lowAt[u++] = lo;
      units[u] = 0xdc00 + (v & 0x3ff);
      lowAt[u++] = lo;
    }
  }
  const all = new TextDecoder('utf-16le').decode(units);
  for (const [flag, re] of classes) {
    re.lastIndex = 0;
    for (let m = re.exec(all); m; m = re.exec(all))
      for (let k = m.index, end = k + m[0].length; k < end; k++) t[lowAt[k]!] = t[lowAt[k]!]! | flag;
  }
  if (plane === 0) {
    t[10] = t[10]! | NEWLINE;
    t[13] = t[13]! | NEWLINE;
    for (let c = 0xd800; c <= 0xdbff; c++) t[c] = HIGH_SURROGATE;
  }
  return t;
}

/** Flags of every code unit of plane 0 (a high surrogate has HIGH_SURROGATE only). */
export const BMP: Uint8Array = planeTable(0);

const astral: Array<Uint8Array | undefined> = [];

/** Flags of a code point above U+FFFF. */
export function astralFlags(cp: number): number {
  const plane = cp >>> 16;
  let t = astral[plane];
  if (!t) {
    t = planeTable(plane);
    astral[plane] = t;
  }
  return t[cp & 0xffff]!;
}

/**
 * Flags of the code point starting at `i` (a lone surrogate has none). Scanners read BMP[] first and
 * call this only for a high surrogate; widthAt tells how many units the code point spans.
 */
export function flagsAt(s: string, i: number, n: number): number {
  const c = s.charCodeAt(i);
  const f = BMP[c]!;
  if ((f & HIGH_SURROGATE) === 0) return f;
  if (i + 1 < n) {
    const d = s.charCodeAt(i + 1);
    if ((d & 0xfc00) === 0xdc00) return astralFlags(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
  }
  return 0;
}

/** Code units of the code point at `i`: 2 for a surrogate pair, else 1. */
export function widthAt(s: string, i: number, n: number): number {
  return (s.charCodeAt(i) & 0xfc00) === 0xd800 && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
}
