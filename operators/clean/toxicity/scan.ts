// One pass of the toxicity scan over a document: its words (runs of Unicode letters, marks and
// digits, lower-cased; a character of a no-space script counts as one word), and the list entries
// among them. Words are looked up in a hash of single-word entries and of the first words of phrases;
// a phrase matches when the following words are its own (longest phrase first, and a matched phrase's
// words are not matched again). Substring entries (CJK, Thai, pictographs) are searched only in texts
// that contain such characters, leftmost-longest, without overlaps.
import type { Lexicon } from './lexicon.ts';
import { NEEDS_SUBSTRINGS, NO_SPACE_CHARS, WORD } from './scan-chars.ts';

export interface Scan {
  /** words counted (the rate's denominator) */
  words: number;
  /** entries matched */
  matches: number;
  /** lists the matched entries belong to (bit i = lexicon.codes[i]) */
  mask: number;
}

/** Scan `text` for entries of the lists in `allowed` (a mask); matched entries go to `terms` if given. */
export function scanText(lex: Lexicon, text: string, allowed: number, terms?: string[]): Scan {
  const lower = text.toLowerCase();
  const tokens = lower.match(WORD) ?? [];
  let matches = 0;
  let mask = 0;
  const n = tokens.length;
  for (let i = 0; i < n; i++) {
    const t = tokens[i]!;
    const phrases = lex.phrases.get(t);
    if (phrases !== undefined) {
      let hit = false;
      for (const p of phrases) {
        if ((p.mask & allowed) === 0 || i + p.rest.length >= n) continue;
        let j = 0;
        while (j < p.rest.length && tokens[i + 1 + j] === p.rest[j]) j++;
        if (j < p.rest.length) continue;
        matches++;
        mask |= p.mask & allowed;
        terms?.push([t, ...p.rest].join(' '));
        i += p.rest.length;
        hit = true;
        break;
      }
      if (hit) continue;
    }
    const m = lex.words.get(t);
    if (m !== undefined && (m & allowed) !== 0) {
      matches++;
      mask |= m & allowed;
      terms?.push(t);
    }
  }
  let words = n;
  if (lex.substrings.size > 0 && NEEDS_SUBSTRINGS.test(lower)) {
    words += lower.match(NO_SPACE_CHARS)?.length ?? 0;
    for (let i = 0; i < lower.length; i++) {
      const list = lex.substrings.get(lower.charCodeAt(i));
      if (list === undefined) continue;
      for (const e of list) {
        if ((e.mask & allowed) === 0 || !lower.startsWith(e.s, i)) continue;
        matches++;
        mask |= e.mask & allowed;
        terms?.push(e.s);
        i += e.s.length - 1;
        break;
      }
    }
  }
  return { words, matches, mask };
}
