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
import { CodeTrie } from './unigram-trie.ts';

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
  /** every counted substring, and which piece (or -1) each trie node is */
  trie: CodeTrie;
  nodePiece: Int32Array;
}

/** The seed pieces: characters (by count) then substrings (by frequency x length), seedSize in all. */
export function seedPieces(words: readonly CountedWord[], maxPieceLength: number, seedSize: number): Seeds {
  const chars = new Map<number, number>();
  const trie = new CodeTrie();
  // per trie node: frequency, and the code point that follows it, BOTH once two different ones were seen
  const freq: number[] = [0];
  const follower: number[] = [0];
  const depth: number[] = [0];
  const BOTH = -1;
  for (const { cps, count, lineEnds = 0 } of words) {
    const n = cps.length;
    // what follows the word: ▁ (the next word), 0 (spm's line boundary), or both
    const after = lineEnds === 0 ? 0x2581 : lineEnds >= count ? 0 : BOTH;
    for (let i = 0; i < n; i++) {
      if (cps[i] !== UNK_CP) chars.set(cps[i]!, (chars.get(cps[i]!) ?? 0) + count);
      const end = validPieceEnd(cps, i, n, maxPieceLength);
      let node = 0;
      for (let j = i + 1; j <= end; j++) {
        const k = trie.add(node, cps[j - 1]!);
        node = k;
        const next = j < n ? cps[j]! : after;
        if (k === freq.length) {
          freq.push(count);
          follower.push(next);
          depth.push(j - i);
        } else {
          freq[k]! += count;
          if (follower[k] !== BOTH && follower[k] !== next) follower[k] = BOTH;
        }
      }
    }
  }
  const pieces: string[] = [];
  const raw: number[] = [];
  const nodePiece = new Int32Array(trie.size).fill(-1);
  for (const [c, n] of [...chars].sort((a, b) => b[1] - a[1] || a[0] - b[0])) {
    nodePiece[trie.child(0, c)] = pieces.length;
    pieces.push(String.fromCodePoint(c));
    raw.push(n);
  }
  const subs: Array<[string, number, number]> = [];
  for (let k = 1; k < freq.length; k++) {
    if (depth[k]! >= 2 && follower[k] === BOTH) subs.push([trie.spell(k), freq[k]! * depth[k]!, k]);
  }
  subs.sort((a, b) => b[1] - a[1] || suffixTreeOrder(a[0], b[0]));
  for (const [key, score, k] of subs) {
    if (pieces.length >= seedSize) break;
    nodePiece[k] = pieces.length;
    pieces.push(key);
    raw.push(score);
  }
  // spm sums in single precision
  let sum = 0;
  for (const r of raw) sum = Math.fround(sum + Math.fround(r));
  const logSum = Math.fround(Math.log(sum));
  const scores = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) scores[i] = Math.log(raw[i]!) - logSum;
  return { pieces, scores, trie, nodePiece };
}
