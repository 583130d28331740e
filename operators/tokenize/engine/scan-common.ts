// Scanner steps the tiktoken patterns share: English contractions, runs of one character class, and
// runs of whitespace.
import { BMP, flagsAt, HIGH_SURROGATE, LETTER, NEWLINE, NUMBER, SPACE, widthAt } from './char-class.ts';

/**
 * End of the contraction `'s|'t|'re|'ve|'m|'ll|'d` at `i` (where s[i] is an apostrophe), or 0 when
 * there is none. `anyCase` for cl100k/o200k, whose patterns list every case variant.
 */
export function contractionEnd(s: string, i: number, n: number, anyCase: boolean): number {
  if (i + 1 >= n) return 0;
  // x | 0x20 equals a lower-case ASCII letter only for that letter and its upper-case form
  const fold = anyCase ? 0x20 : 0;
  const a = s.charCodeAt(i + 1) | fold;
  if (a === 115 || a === 116 || a === 109 || a === 100) return i + 2; // s t m d
  if (i + 2 >= n) return 0;
  const b = s.charCodeAt(i + 2) | fold;
  if ((a === 114 || a === 118) && b === 101) return i + 3; // re ve
  if (a === 108 && b === 108) return i + 3; // ll
  return 0;
}

/**
 * The piece a run of whitespace at `i` gives. With `newlines` (cl100k, o200k) first
 * `\s*[\r\n]+`: up to and including the run's last CR or LF. Then `\s+(?!\S)`: the run but its last
 * character, which goes with the word after it (the whole run at the end of the text). Then `\s+`:
 * a single whitespace character before a non-space.
 */
export function spaceRunEnd(s: string, i: number, n: number, newlines: boolean): number {
  let j = i;
  let lastNewline = -1;
  while (j < n) {
    const f = BMP[s.charCodeAt(j)]!;
    if ((f & SPACE) === 0) break;
    if (f & NEWLINE) lastNewline = j;
    j++;
  }
  if (newlines && lastNewline >= 0) return lastNewline + 1;
  if (j === n) return n;
  return j - 1 > i ? j - 1 : j;
}

/** End of the run of code points having `flag` that starts at `i`. */
export function runEnd(s: string, i: number, n: number, flag: number): number {
  let j = i;
  while (j < n) {
    const f = BMP[s.charCodeAt(j)]!;
    if (f & flag) {
      j++;
      continue;
    }
    if (f & HIGH_SURROGATE && flagsAt(s, j, n) & flag) {
      j += 2;
      continue;
    }
    break;
  }
  return j;
}

/** End of the run of [^\s\p{L}\p{N}] starting at `i` (a lone surrogate is such a character). */
export function symbolRunEnd(s: string, i: number, n: number): number {
  let j = i;
  while (j < n) {
    const c = s.charCodeAt(j);
    let f = BMP[c]!;
    if (f & HIGH_SURROGATE) f = flagsAt(s, j, n);
    if (f & (LETTER | NUMBER | SPACE)) break;
    j += c >= 0xd800 ? widthAt(s, j, n) : 1;
  }
  return j;
}

/** End of at most three code points of \p{N} from `i`. */
export function numberRunEnd(s: string, i: number, n: number): number {
  let j = i;
  for (let k = 0; k < 3 && j < n; k++) {
    const c = s.charCodeAt(j);
    let f = BMP[c]!;
    if (f & HIGH_SURROGATE) f = flagsAt(s, j, n);
    if ((f & NUMBER) === 0) break;
    j += c >= 0xd800 ? widthAt(s, j, n) : 1;
  }
  return j;
}

/** The flags of the code point at `i` (BMP table, or the astral tables through a surrogate pair). */
export function classAt(s: string, i: number, n: number): number {
  const f = BMP[s.charCodeAt(i)]!;
  return f & HIGH_SURROGATE ? flagsAt(s, i, n) : f;
}
