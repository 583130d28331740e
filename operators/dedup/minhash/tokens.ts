// What a word is, as lookup tables over UTF-16 code units, so the shingle hasher reads char codes with
// no regex and no strings: a word is a maximal run of letters, marks and digits (\p{L}\p{M}\p{N}, and
// surrogates, i.e. astral characters), compared lowercased. `wordsOf` and `charStream` are the slow,
// string-building reference definitions the tests compute exact Jaccard from.

/** 1 where the code unit belongs to a word (filled by wordTables). */
export const WORD_CHAR = new Uint8Array(65536);
/** The lowercase of a code unit when that is one code unit, else the unit itself (filled by wordTables). */
export const LOWER = new Uint16Array(65536);

let filled = false;
/** Fills WORD_CHAR and LOWER, once per thread, on first use rather than at load (~15 ms here): prep imports
 * this operator whether or not it near-dedups, and so does a cluster coordinator that never hashes. */
export function wordTables(): void {
  if (filled) return;
  const word = /[\p{L}\p{M}\p{N}]/u;
  for (let c = 0; c < 65536; c++) {
    const s = String.fromCharCode(c);
    WORD_CHAR[c] = (c >= 0xd800 && c <= 0xdfff) || word.test(s) ? 1 : 0;
    const l = s.toLowerCase();
    LOWER[c] = l.length === 1 ? l.charCodeAt(0) : c;
  }
  filled = true;
}

const ASCII = /^[\x00-\x7f]*$/;
const lower = (s: string) => {
  if (ASCII.test(s)) return s.toLowerCase(); // the same as LOWER for ASCII, and fast
  let out = '';
  for (let i = 0; i < s.length; i++) out += String.fromCharCode(LOWER[s.charCodeAt(i)]!);
  return out;
};

/** The lowercased words of a text. */
export function wordsOf(text: string): string[] {
  wordTables();
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const w = i < text.length && WORD_CHAR[text.charCodeAt(i)] === 1;
    if (w && start < 0) start = i;
    else if (!w && start >= 0) {
      out.push(lower(text.slice(start, i)));
      start = -1;
    }
  }
  return out;
}

/** The text char shingles are taken from: lowercased words joined by single spaces. */
export const charStream = (text: string): string => wordsOf(text).join(' ');

/** Reference shingle set: word n-grams joined by a space, or char n-grams of charStream. A text with
 * fewer units than the shingle size is one shingle; a text with none has no shingles. */
export function shingleSet(text: string, unit: 'word' | 'char', size: number): Set<string> {
  const out = new Set<string>();
  if (unit === 'word') {
    const w = wordsOf(text);
    if (w.length === 0) return out;
    if (w.length < size) {
      out.add(w.join(' '));
      return out;
    }
    for (let i = 0; i + size <= w.length; i++) {
      let g = w[i]!;
      for (let j = 1; j < size; j++) g += ' ' + w[i + j]!;
      out.add(g);
    }
  } else {
    const s = charStream(text);
    if (s.length === 0) return out;
    if (s.length < size) {
      out.add(s);
      return out;
    }
    for (let i = 0; i + size <= s.length; i++) out.add(s.slice(i, i + size));
  }
  return out;
}
