// The word lists of the toxicity filter, compiled for one scan per document: LDNOOBW ("List of Dirty,
// Naughty, Obscene, and Otherwise Bad Words", npm naughty-words, CC-BY-4.0), one list per language.
// The lists name no kinds of word (profanity, sexual, slur...), so a match's category is the code of
// the list it came from ("en", "de", "fr-CA"...).
//
// Entries are split into words the way texts are (scan.ts: runs of Unicode letters, marks and digits,
// lower-cased), so "g-spot", "s&m" and "2 girls 1 cup" match as word sequences, whatever punctuation
// or spacing the text puts between their words. Entries written in scripts without spaces between
// words (Han, Hiragana, Katakana, Thai) and pictographs (🖕) match as substrings instead; entries with
// no letter at all ("13.") are left out: as words they would match every "13".
import { createRequire } from 'node:module';
import { hashRange, NO_SPACE_CHAR, PREFILTER_BITS, WORD } from './scan-chars.ts';

const require = createRequire(import.meta.url);
const RAW = require('naughty-words') as Record<string, string[]>;

/** naughty-words' key for Québec French is a full BCP 47 tag; rows and configs say "fr-CA" */
const codeOf = (key: string) => (key === 'fr-CA-u-sd-caqc' ? 'fr-CA' : key);

/** The lists, by code ("en", "de", "fr-CA", "zh"...). */
export const TOXICITY_LISTS: readonly string[] = Object.keys(RAW).map(codeOf).sort();
const LIST_WORDS = new Map(Object.entries(RAW).map(([k, v]) => [codeOf(k), v]));

const PICTOGRAPH = /\p{Extended_Pictographic}/u;

/** Phrases beginning with one word: the following words of each (longest first) and its lists. */
export interface Phrase {
  rest: string[];
  mask: number;
}

export interface Lexicon {
  /** list codes, bit i of a mask = codes[i] */
  codes: string[];
  /** a single word -> lists that have it */
  words: Map<string, number>;
  /** first word of a multi-word entry -> its phrases */
  phrases: Map<string, Phrase[]>;
  /** substring entries by their first UTF-16 unit, longest first */
  substrings: Map<number, Array<{ s: string; mask: number }>>;
  /** entries left out (no letters, or shorter substrings than minSubstringChars) */
  skipped: number;
  /** bit hashRange(word) set for every single word and phrase's first word (most words skip the maps) */
  prefilter: Uint32Array;
}

/**
 * Compile the lists `codes` (all when empty). `minSubstringChars`: substring entries shorter than this
 * (in characters) are left out; single Han characters such as 性 ("sex", but also the "-ity" of
 * 可能性 "possibility") would flag most Chinese and Japanese text.
 */
export function compileLexicon(codes: readonly string[], minSubstringChars: number): Lexicon {
  const use = codes.length > 0 ? [...codes] : [...TOXICITY_LISTS];
  if (use.length > 31) throw new Error('toxicity lexicon: at most 31 lists (one bit each)');
  const lex: Lexicon = {
    codes: use,
    words: new Map(),
    phrases: new Map(),
    substrings: new Map(),
    skipped: 0,
    prefilter: new Uint32Array(2 ** PREFILTER_BITS / 32),
  };
  const phraseMasks = new Map<string, Phrase & { first: string }>();
  const subMasks = new Map<string, number>();
  use.forEach((code, bit) => {
    const entries = LIST_WORDS.get(code);
    if (!entries) throw new Error(`toxicity lexicon: no list "${code}"; lists: ${TOXICITY_LISTS.join(', ')}`);
    const mask = 1 << bit;
    for (const raw of entries) {
      const e = raw.toLowerCase().trim();
      if (NO_SPACE_CHAR.test(e) || (PICTOGRAPH.test(e) && !/\p{L}/u.test(e))) {
        if ([...e].length < minSubstringChars && !PICTOGRAPH.test(e)) lex.skipped++;
        else subMasks.set(e, (subMasks.get(e) ?? 0) | mask);
        continue;
      }
      const words = e.match(WORD) ?? [];
      if (!words.some((w) => /\p{L}/u.test(w))) {
        lex.skipped++;
        continue;
      }
      if (words.length === 1) {
        lex.words.set(words[0]!, (lex.words.get(words[0]!) ?? 0) | mask);
        continue;
      }
      const key = words.join(' ');
      const p = phraseMasks.get(key) ?? { first: words[0]!, rest: words.slice(1), mask: 0 };
      p.mask |= mask;
      phraseMasks.set(key, p);
    }
  });
  for (const { first, rest, mask } of phraseMasks.values()) {
    const list = lex.phrases.get(first) ?? [];
    list.push({ rest, mask });
    lex.phrases.set(first, list);
  }
  for (const list of lex.phrases.values()) list.sort((a, b) => b.rest.length - a.rest.length);
  for (const w of [...lex.words.keys(), ...lex.phrases.keys()]) {
    const h = hashRange(w, 0, w.length);
    lex.prefilter[h >>> 5]! |= 1 << (h & 31);
  }
  for (const [s, mask] of subMasks) {
    const k = s.charCodeAt(0);
    const list = lex.substrings.get(k) ?? [];
    list.push({ s, mask });
    lex.substrings.set(k, list);
  }
  for (const list of lex.substrings.values()) list.sort((a, b) => b.s.length - a.s.length);
  return lex;
}
