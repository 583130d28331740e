// Whole-word, case-insensitive matching of a word list (e.g. LDNOOBW) in text. "Whole word": an entry that
// begins (ends) with a letter or digit must not have a letter or digit just before (after) it, so "ass" is
// not found in "class" or "assess" but is in "ass," and "ass-kicking". A phrase matches its words separated
// by any run of non-letters ("baby batter" in "baby  batter" or "baby-batter"). Entries of symbols only
// (an emoji) match anywhere. An `allow` list (same matching) is blanked out first, for the proper names a
// word list cannot know ("Moby Dick" is not an insult).

const WORD = '[\\p{L}\\p{N}]';
const caches = {
  find: new WeakMap<readonly string[], RegExp | null>(),
  blank: new WeakMap<readonly string[], RegExp | null>(),
};

// '-' is literal outside a class and may not be escaped under the 'u' flag
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function entryPattern(entry: string): string {
  const body = entry.split(/\s+/).map(escapeRegExp).join('[^\\p{L}\\p{N}]+');
  const head = new RegExp(`^${WORD}`, 'u').test(entry) ? `(?<!${WORD})` : '';
  const tail = new RegExp(`${WORD}$`, 'u').test(entry) ? `(?!${WORD})` : '';
  return `${head}${body}${tail}`;
}

/** One regular expression for the whole list (compiled once per list array). null: the list has no entries. */
function compile(list: readonly string[], use: keyof typeof caches): RegExp | null {
  const cache = caches[use];
  const cached = cache.get(list);
  if (cached !== undefined) return cached;
  const entries = [...new Set(list.map((w) => w.trim()).filter((w) => w.length > 0))];
  // longest first, so the reported match is the longest entry starting at a position
  entries.sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  const flags = use === 'blank' ? 'giu' : 'iu';
  const re = entries.length === 0 ? null : new RegExp(entries.map(entryPattern).join('|'), flags);
  cache.set(list, re);
  return re;
}

/** The first listed word or phrase found in `text` as whole words (as written in the text), or undefined.
 * Text matching an `allow` entry is not searched. */
export function findListedWord(
  text: string,
  list: readonly string[],
  allow: readonly string[] = [],
): string | undefined {
  const blank = compile(allow, 'blank');
  // a space keeps the words on either side of an allowed phrase apart
  const searched = blank === null ? text : text.replace(blank, ' ');
  return compile(list, 'find')?.exec(searched)?.[0];
}

/** Whether `text` contains an entry of `list` as whole words, ignoring case (outside `allow` phrases). */
export function containsListedWord(text: string, list: readonly string[], allow: readonly string[] = []): boolean {
  return findListedWord(text, list, allow) !== undefined;
}
