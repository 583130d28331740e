// The character classes of the toxicity scan, shared by the lexicon (entries, split by regex) and the
// scan (texts, split by a table made from the same classes) so both split into words the same way;
// and the word hash behind the scan's prefilter.

/** Scripts written without spaces between words: counted and matched character by character. */
const NO_SPACE = '\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}\\p{sc=Thai}';
const WORD_CHAR = `[[\\p{L}\\p{M}\\p{N}]--[${NO_SPACE}]]`;

/** A word: a run of letters, marks and digits outside the no-space scripts. */
export const WORD = new RegExp(`${WORD_CHAR}+`, 'gv');
export const NO_SPACE_CHAR = new RegExp(`[${NO_SPACE}]`, 'v');
const IS_WORD_CHAR = new RegExp(`^${WORD_CHAR}$`, 'v');

export const SEP = 0;
export const WORD_C = 1;
/** a character of a no-space script: one word by itself */
export const NO_SPACE_C = 2;
/** a high surrogate: the class is its code point's (astralClass) */
export const HIGH = 3;

/** The class of every UTF-16 unit, made once per thread (65,536 regex tests, ~20 ms). */
export const UNIT_CLASS: Uint8Array = (() => {
  const t = new Uint8Array(65536);
  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff) t[c] = HIGH;
      continue;
    }
    const s = String.fromCharCode(c);
    t[c] = NO_SPACE_CHAR.test(s) ? NO_SPACE_C : IS_WORD_CHAR.test(s) ? WORD_C : SEP;
  }
  return t;
})();

const astral = new Map<number, number>();
/** The class of a code point above U+FFFF (pictographs are SEP: they are found by the substring pass). */
export function astralClass(cp: number): number {
  let k = astral.get(cp);
  if (k === undefined) {
    const s = String.fromCodePoint(cp);
    astral.set(cp, (k = NO_SPACE_CHAR.test(s) ? NO_SPACE_C : IS_WORD_CHAR.test(s) ? WORD_C : SEP));
  }
  return k;
}

/** Bits of the prefilter: 2^18 bits (32 KiB), a few thousand words set, under 1% false hits. */
export const PREFILTER_BITS = 18;
export function hashRange(s: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> (32 - PREFILTER_BITS);
}
