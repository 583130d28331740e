// One pass of the toxicity scan over a document: its words (runs of Unicode letters, marks and
// digits, lower-cased; a character of a no-space script counts as one word), and the list entries
// among them. A table of character classes splits the text (no regex, no string per word): each
// word's hash is checked against the lexicon's prefilter, and only the few that pass are cut out and
// looked up in the hash of single-word entries and of phrases' first words. A phrase matches when
// the following words are its own (longest phrase first; a matched phrase's words are not matched
// again). Substring entries (CJK, Thai, pictographs) are searched only in texts that contain such
// characters, leftmost-longest, without overlaps.
import type { Lexicon } from './lexicon.ts';
import { astralClass, hashRange, HIGH, NO_SPACE_C, UNIT_CLASS, WORD_C } from './scan-chars.ts';

export interface Scan {
  /** words counted (the rate's denominator) */
  words: number;
  /** entries matched */
  matches: number;
  /** lists the matched entries belong to (bit i = lexicon.codes[i]) */
  mask: number;
}

/** The class of the character at i and its length in UTF-16 units (2 for a surrogate pair). */
function classAt(s: string, i: number): { k: number; len: number } {
  const k = UNIT_CLASS[s.charCodeAt(i)]!;
  if (k !== HIGH) return { k, len: 1 };
  const cp = s.codePointAt(i)!;
  return cp > 0xffff ? { k: astralClass(cp), len: 2 } : { k: 0, len: 1 };
}

/** The next word at or after `from`: [start, end), or undefined at the end of the text. */
function nextWord(s: string, from: number): [number, number] | undefined {
  let i = from;
  const n = s.length;
  while (i < n) {
    const c = classAt(s, i);
    if (c.k === WORD_C) break;
    i += c.len;
  }
  if (i >= n) return undefined;
  const start = i;
  while (i < n) {
    const c = classAt(s, i);
    if (c.k !== WORD_C) break;
    i += c.len;
  }
  return [start, i];
}

/** Scan `text` for entries of the lists in `allowed` (a mask); matched entries go to `terms` if given. */
export function scanText(lex: Lexicon, text: string, allowed: number, terms?: string[]): Scan {
  const s = text.toLowerCase();
  const n = s.length;
  const pre = lex.prefilter;
  let words = 0;
  let matches = 0;
  let mask = 0;
  let special = false; // no-space characters or astral ones: the substring pass is needed
  let i = 0;
  while (i < n) {
    const u = s.charCodeAt(i);
    let k = UNIT_CLASS[u]!;
    if (k !== WORD_C) {
      if (k === HIGH) {
        special = true;
        const c = classAt(s, i);
        if (c.k !== WORD_C) {
          if (c.k === NO_SPACE_C) words++;
          i += c.len;
          continue;
        }
      } else {
        if (k === NO_SPACE_C) {
          words++;
          special = true;
        }
        i++;
        continue;
      }
    }
    // a word starts at i
    const start = i;
    while (i < n) {
      k = UNIT_CLASS[s.charCodeAt(i)]!;
      if (k === WORD_C) i++;
      else if (k === HIGH && classAt(s, i).k === WORD_C) i += classAt(s, i).len;
      else break;
    }
    words++;
    const h = hashRange(s, start, i);
    if ((pre[h >>> 5]! & (1 << (h & 31))) === 0) continue;
    const w = s.slice(start, i);
    const phrases = lex.phrases.get(w);
    if (phrases !== undefined) {
      const end = matchPhrase(s, i, phrases, allowed);
      if (end !== undefined) {
        matches++;
        mask |= end.mask;
        terms?.push(`${w} ${end.rest.join(' ')}`);
        // the phrase's other words count as words too
        words += end.rest.length;
        i = end.at;
        continue;
      }
    }
    const m = lex.words.get(w);
    if (m !== undefined && (m & allowed) !== 0) {
      matches++;
      mask |= m & allowed;
      terms?.push(w);
    }
  }
  if (special && lex.substrings.size > 0) {
    for (let j = 0; j < n; j++) {
      const list = lex.substrings.get(s.charCodeAt(j));
      if (list === undefined) continue;
      for (const e of list) {
        if ((e.mask & allowed) === 0 || !s.startsWith(e.s, j)) continue;
        matches++;
        mask |= e.mask & allowed;
        terms?.push(e.s);
        j += e.s.length - 1;
        break;
      }
    }
  }
  return { words, matches, mask };
}

/** The first (longest) allowed phrase whose remaining words follow position `at`. */
function matchPhrase(
  s: string,
  at: number,
  phrases: Lexicon['phrases'] extends Map<string, infer P> ? P : never,
  allowed: number,
): { at: number; mask: number; rest: string[] } | undefined {
  for (const p of phrases) {
    if ((p.mask & allowed) === 0) continue;
    let pos = at;
    let j = 0;
    for (; j < p.rest.length; j++) {
      const wd = nextWord(s, pos);
      if (!wd) break;
      const want = p.rest[j]!;
      if (wd[1] - wd[0] !== want.length || !s.startsWith(want, wd[0])) break;
      pos = wd[1];
    }
    if (j === p.rest.length) return { at: pos, mask: p.mask & allowed, rest: p.rest };
  }
  return undefined;
}
