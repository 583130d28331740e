// The character classes of the toxicity scan, shared by the lexicon (entries) and the scan (texts) so
// both split into words the same way.

/** Scripts written without spaces between words: counted and matched character by character. */
const NO_SPACE = '\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}\\p{sc=Thai}';

/** A word: a run of letters, marks and digits outside the no-space scripts. */
export const WORD = new RegExp(`[[\\p{L}\\p{M}\\p{N}]--[${NO_SPACE}]]+`, 'gv');
/** One character of a no-space script (each counts as a word). */
export const NO_SPACE_CHARS = new RegExp(`[${NO_SPACE}]`, 'gv');
export const NO_SPACE_CHAR = new RegExp(`[${NO_SPACE}]`, 'v');
/** Text that needs the substring pass: no-space scripts or pictographs. */
export const NEEDS_SUBSTRINGS = new RegExp(`[${NO_SPACE}\\p{Extended_Pictographic}]`, 'v');
