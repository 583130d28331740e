// The o200k_base pre-tokenizer as a hand-written scanner. It splits exactly like the encoding's
// pattern (V8, `gu` flags; U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], W = [\p{Ll}\p{Lm}\p{Lo}\p{M}],
// P = [^\r\n\p{L}\p{N}], C = (?i:'s|'t|'re|'ve|'m|'ll|'d))
//   A: P?U*W+C?  B: P?U+W*C?  \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
// (tested piece for piece against it). The regex backtracks through A with and without P before it
// tries B; the scanner makes the same choices in the same order, without backtracking.
import { LETTER, LOWERISH, NEWLINE, NUMBER, SPACE, UPPERISH, widthAt } from './char-class.ts';
import { classAt, contractionEnd, numberRunEnd, runEnd, spaceRunEnd, symbolRunEnd } from './scan-common.ts';

const NOT_PREFIX = LETTER | NUMBER | NEWLINE;

/** End (exclusive) of the piece that starts at `i` (< n) of `s`. */
export function pieceEndO200k(s: string, i: number, n: number): number {
  const c = s.charCodeAt(i);
  const f = classAt(s, i, n);
  const word = wordAt(s, i, n, f);
  if (word > 0) return word;
  if (f & NUMBER) return numberRunEnd(s, i, n);
  // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`: the optional space counts only when a symbol follows it
  let j = i;
  if (c === 32 && i + 1 < n && (classAt(s, i + 1, n) & (LETTER | NUMBER | SPACE)) === 0) j = i + 1;
  if (j > i || (f & SPACE) === 0) {
    j = symbolRunEnd(s, j, n);
    for (let d = s.charCodeAt(j); j < n && (d === 10 || d === 13 || d === 47); d = s.charCodeAt(++j));
    return j;
  }
  return spaceRunEnd(s, i, n, true);
}

/** End of an A or B piece at `i` (whose flags are `f`), or 0 when neither matches. */
function wordAt(s: string, i: number, n: number, f: number): number {
  const prefixed = (f & NOT_PREFIX) === 0 && i + 1 < n ? i + widthAt(s, i, n) : -1;
  let e: number;
  if (prefixed > 0 && prefixed < n && (e = wordA(s, prefixed, n)) > 0) return e;
  if (f & (UPPERISH | LOWERISH) && (e = wordA(s, i, n)) > 0) return e;
  if (prefixed > 0 && prefixed < n && classAt(s, prefixed, n) & UPPERISH) return wordB(s, prefixed, n);
  if (f & UPPERISH) return wordB(s, i, n);
  return 0;
}

/** U*W+C? at `i`, or 0. U* takes all it can; when no W follows, it gives back up to its last W. */
function wordA(s: string, i: number, n: number): number {
  let j = i;
  let lastLower = -1; // end of the last W code point inside the U run
  while (j < n) {
    const g = classAt(s, j, n);
    if ((g & UPPERISH) === 0) break;
    j += widthAt(s, j, n);
    if (g & LOWERISH) lastLower = j;
  }
  if (j < n && classAt(s, j, n) & LOWERISH) return withContraction(s, runEnd(s, j, n, LOWERISH), n);
  return lastLower > 0 ? withContraction(s, lastLower, n) : 0;
}

/** U+W*C? at `i`, whose code point is in U. */
function wordB(s: string, i: number, n: number): number {
  return withContraction(s, runEnd(s, runEnd(s, i, n, UPPERISH), n, LOWERISH), n);
}

function withContraction(s: string, e: number, n: number): number {
  if (e < n && s.charCodeAt(e) === 39) {
    const c = contractionEnd(s, e, n, true);
    if (c > 0) return c;
  }
  return e;
}
