// The start of SentencePiece's Unigram training: the required alphabet (the most frequent characters
// covering `characterCoverage` of all characters; the rest become an unknown placeholder) and the seed
// vocabulary (every character, then frequent substrings scored by frequency x length).
//
// spm finds seed substrings with an enhanced suffix array over the whole corpus: the internal nodes of
// the suffix tree, i.e. substrings seen at least twice with at least two different following characters
// (right-branching). Pieces never contain ▁ except as their first character, so every seed lies inside
// one word, and counting substrings within distinct words weighted by the word's count gives the same
// frequencies. What words lose is the character after a word's end: ▁, or spm's line boundary. Callers
// that know how often a word ends a line say so (CountedWord.lineEnds) and get spm's seeds exactly;
// otherwise every word is taken as followed by ▁, and a substring seen only at word ends that spm
// takes because it also ends a line is missed (a few in 50,000 on Moby-Dick). Ties in score are broken by the piece's code points (spm: suffix array
// node order).
import { UNK_CP, validPieceEnd } from './spm-script.ts';

export interface CountedWord {
  /** code points, characters outside the alphabet replaced by UNK_CP */
  cps: Int32Array;
  count: number;
  /** how many of the occurrences end a line (when known) */
  lineEnds?: number;
}

/** Code point order (UTF-8 byte order), as std::string compares pieces. */
export function comparePieces(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** Node order of a suffix tree walked by the suffix array: code points, an extension before its prefix. */
function suffixTreeOrder(a: string, b: string): number {
  const c = comparePieces(a, b);
  return a.startsWith(b) || b.startsWith(a) ? -c : c;
}

/** Characters by count (descending, then code point) until `coverage` of all characters is reached. */
export function requiredChars(
  words: ReadonlyArray<readonly [number[], number, ...unknown[]]>,
  coverage: number,
): Map<number, number> {
  const counts = new Map<number, number>();
  let all = 0;
  for (const [cps, count] of words) {
    for (const c of cps) {
      if (c === 0 || c === 0x20) continue;
      counts.set(c, (counts.get(c) ?? 0) + count);
      all += count;
    }
  }
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const required = new Map<number, number>();
  let covered = 0;
  const target = Math.fround(coverage);
  for (const [c, n] of sorted) {
    // spm compares in single precision, which decides the last character or two.
    if (Math.fround(covered / all) >= target) break;
    covered += n;
    if (c === 0x09) continue;
    required.set(c, n);
  }
  return required;
}

export interface Seeds {
  pieces: string[];
  /** log probabilities: each piece's score (count, or frequency x length) over the sum of scores */
  scores: Float64Array;
}

/** The seed pieces: characters (by count) then substrings (by frequency x length), seedSize in all. */
export function seedPieces(words: readonly CountedWord[], maxPieceLength: number, seedSize: number): Seeds {
  const chars = new Map<number, number>();
  const index = new Map<string, number>();
  const freq: number[] = [];
  const length: number[] = [];
  // follower code point; -1 (BOTH) once two different followers were seen
  const follower: number[] = [];
  const BOTH = -1;
  for (const { cps, count, lineEnds = 0 } of words) {
    // what follows the word: ▁ (the next word), 0 (spm's line boundary), or both
    const after = lineEnds === 0 ? 0x2581 : lineEnds >= count ? 0 : BOTH;
    const n = cps.length;
    for (let i = 0; i < n; i++) if (cps[i] !== UNK_CP) chars.set(cps[i]!, (chars.get(cps[i]!) ?? 0) + count);
    const text = String.fromCodePoint(...cps);
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + (cps[i]! > 0xffff ? 2 : 1);
    for (let i = 0; i < n; i++) {
      const end = validPieceEnd(cps, i, n, maxPieceLength);
      for (let j = i + 2; j <= end; j++) {
        const key = text.slice(offsets[i], offsets[j]);
        const next = j < n ? cps[j]! : after;
        const k = index.get(key);
        if (k === undefined) {
          index.set(key, freq.length);
          freq.push(count);
          length.push(j - i);
          follower.push(next);
        } else {
          freq[k]! += count;
          if (follower[k] !== -1 && follower[k] !== next) follower[k] = -1;
        }
      }
    }
  }
  const pieces: string[] = [];
  const raw: number[] = [];
  for (const [c, n] of [...chars].sort((a, b) => b[1] - a[1] || a[0] - b[0])) {
    pieces.push(String.fromCodePoint(c));
    raw.push(n);
  }
  const subs: Array<[string, number]> = [];
  for (const [key, k] of index) if (follower[k] === -1) subs.push([key, freq[k]! * length[k]!]);
  subs.sort((a, b) => b[1] - a[1] || suffixTreeOrder(a[0], b[0]));
  for (const [key, score] of subs) {
    if (pieces.length >= seedSize) break;
    pieces.push(key);
    raw.push(score);
  }
  // spm sums in single precision
  let sum = 0;
  for (const r of raw) sum = Math.fround(sum + Math.fround(r));
  const logSum = Math.fround(Math.log(sum));
  const scores = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) scores[i] = Math.log(raw[i]!) - logSum;
  return { pieces, scores };
}
