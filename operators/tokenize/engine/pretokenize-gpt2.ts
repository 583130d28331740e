// The pre-tokenizer of gpt2, r50k_base and p50k_base as a hand-written scanner. It splits exactly
// like their shared pattern (V8, `gu` flags)
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (tested piece for piece against it): one optional leading space, then a run of one class.
import { LETTER, NUMBER, SPACE } from './char-class.ts';
import { classAt, contractionEnd, runEnd, spaceRunEnd, symbolRunEnd } from './scan-common.ts';

/** End (exclusive) of the piece that starts at `i` (< n) of `s`. */
export function pieceEndGpt2(s: string, i: number, n: number): number {
  const c = s.charCodeAt(i);
  if (c === 39) {
    const e = contractionEnd(s, i, n, false);
    if (e > 0) return e;
  }
  // ` ?` goes with a following letter, number or symbol; a space before a space is whitespace
  const j = c === 32 && i + 1 < n ? i + 1 : i;
  const f = classAt(s, j, n);
  if (j === i || (f & SPACE) === 0) {
    if (f & LETTER) return runEnd(s, j, n, LETTER);
    if (f & NUMBER) return runEnd(s, j, n, NUMBER);
    if ((f & SPACE) === 0) return symbolRunEnd(s, j, n);
  }
  return spaceRunEnd(s, i, n, false);
}
