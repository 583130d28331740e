// The cl100k_base pre-tokenizer as a hand-written scanner. It splits exactly like the encoding's
// pattern (V8, `gu` flags)
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//   \s*[\r\n]+|\s+(?!\S)|\s+
// (tested piece for piece against it) at several times the regex's speed: the regex engine tries the
// alternatives in turn at every piece, the scanner decides from the first one or two characters.
import { BMP, HIGH_SURROGATE, flagsAt, LETTER, NEWLINE, NUMBER, SPACE, widthAt } from './char-class.ts';
import { classAt, contractionEnd, numberRunEnd, runEnd, spaceRunEnd, symbolRunEnd } from './scan-common.ts';

const WORDLIKE = LETTER | NUMBER | NEWLINE;

/** End (exclusive) of the piece that starts at `i` (< n) of `s`. */
export function pieceEndCl100k(s: string, i: number, n: number): number {
  const c = s.charCodeAt(i);
  let f = BMP[c]!;
  if (f & HIGH_SURROGATE) f = flagsAt(s, i, n);
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (c === 39) {
    const e = contractionEnd(s, i, n, true);
    if (e > 0) return e;
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (f & LETTER) return runEnd(s, i, n, LETTER);
  if ((f & WORDLIKE) === 0) {
    const j = i + (c >= 0xd800 ? widthAt(s, i, n) : 1);
    if (j < n && classAt(s, j, n) & LETTER) return runEnd(s, j, n, LETTER);
  }
  // \p{N}{1,3}
  if (f & NUMBER) return numberRunEnd(s, i, n);
  // ` ?[^\s\p{L}\p{N}]+[\r\n]*`: the optional space counts only when a symbol follows it
  let j = i;
  if (c === 32 && i + 1 < n && (classAt(s, i + 1, n) & (LETTER | NUMBER | SPACE)) === 0) j = i + 1;
  if (j > i || (f & SPACE) === 0) {
    j = symbolRunEnd(s, j, n);
    while (j < n && BMP[s.charCodeAt(j)]! & NEWLINE) j++;
    return j;
  }
  // \s*[\r\n]+|\s+(?!\S)|\s+
  return spaceRunEnd(s, i, n, true);
}
