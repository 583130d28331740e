// Reverse dictionary as multiple choice: given a WordNet definition, which of four words does it define?
// The answer is the synset's most frequent word (by WordNet's tagged-sense counts, so that it is a word a
// reader may know); the three distractors are words of the same part of speech from other synsets, of
// about the same frequency (the nearest in frequency rank), so that word frequency alone does not give the
// answer away. Documents, distractors and the answer's position are chosen by hashes: the same every run.
import { stableId } from '../../../src/runtime/files.ts';
import { multipleChoiceTask } from './multiple-choice.ts';
import { lemmaCounts, readSynsets, type Synset, type WordnetPos } from './wordnet-reader.ts';

export interface DefinitionDoc {
  /** `<pos><offset>`, WordNet's synset id */
  id: string;
  pos: WordnetPos;
  definition: string;
  /** the four choices as words (spaces for underscores), without the leading space */
  words: string[];
  /** index of the defined word in `words` */
  gold: number;
}

export const DEFINITIONS_CONFIG = {
  wordnet: '3.0 (Debian wordnet-base)',
  parts: ['n', 'v', 'a', 'r'],
  docs: 400,
  choices: 4,
  /** distractors come from this many lemmas either side of the answer in frequency rank */
  bandHalfWidth: 50,
  minDefinitionChars: 12,
} as const;

const WORD = /^[A-Za-z][A-Za-z'-]*( [A-Za-z][A-Za-z'-]*)*$/;
const hashOf = (key: string) => Number.parseInt(stableId(key).slice(0, 8), 16);
const display = (w: string) => w.replace(/_/g, ' ');

/** True when the definition gives the word away: it has a word starting with one of the word's parts
 * ("wrap" in "wrapped"), with all but the last two letters of a part of >= 6 letters ("respire" in
 * "respiration"), or equal to a 3-letter part. */
export function definitionRevealsWord(definition: string, word: string): boolean {
  const tokens = definition.toLowerCase().split(/[^a-z]+/);
  return display(word)
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((p) => p.length >= 3)
    .some((p) => {
      if (p.length === 3) return tokens.includes(p);
      const stem = p.length >= 6 ? p.slice(0, p.length - 2) : p;
      return tokens.some((t) => t.startsWith(stem));
    });
}

interface Lemma {
  lower: string;
  /** as WordNet writes it first (keeps "Einstein" capitalised) */
  surface: string;
  count: number;
  tie: number;
}

/** The lemmas of a part of speech that the concordance tags, most frequent first; ties (most lemmas are
 * tagged once or twice) in hash order, not alphabetical, so that a band is not words of one spelling. */
function rankedLemmas(pos: WordnetPos, synsets: readonly Synset[], counts: Map<string, number>): Lemma[] {
  const seen = new Map<string, Lemma>();
  for (const s of synsets)
    for (const w of s.words) {
      const lower = w.toLowerCase();
      const count = counts.get(`${pos}:${lower}`) ?? 0;
      if (count > 0 && !seen.has(lower) && WORD.test(display(w)))
        seen.set(lower, { lower, surface: w, count, tie: hashOf(`lemma:${lower}`) });
    }
  return [...seen.values()].sort((a, b) => b.count - a.count || a.tie - b.tie || (a.lower < b.lower ? -1 : 1));
}

/** The documents of one part of speech (every eligible synset; the caller takes a sample). */
function posDocs(pos: WordnetPos): { doc: DefinitionDoc; key: number }[] {
  const { bandHalfWidth, choices, minDefinitionChars } = DEFINITIONS_CONFIG;
  const synsets = readSynsets(pos);
  const counts = lemmaCounts();
  const ranked = rankedLemmas(pos, synsets, counts);
  const rankOf = new Map(ranked.map((l, i) => [l.lower, i]));
  const out: { doc: DefinitionDoc; key: number }[] = [];
  for (const s of synsets) {
    const id = `${pos}${s.offset}`;
    // the answer: the synset's word tagged most often (the first of equal ones)
    let answer: Lemma | undefined;
    for (const w of s.words) {
      const r = rankOf.get(w.toLowerCase());
      const l = r === undefined ? undefined : ranked[r];
      if (l && (!answer || l.count > answer.count)) answer = l;
    }
    if (!answer || s.definition.length < minDefinitionChars || definitionRevealsWord(s.definition, answer.surface))
      continue;
    const synonyms = new Set(s.words.map((w) => w.toLowerCase()));
    const rank = rankOf.get(answer.lower)!;
    const lo = Math.max(0, rank - bandHalfWidth);
    const band = ranked.slice(lo, Math.min(ranked.length, rank + bandHalfWidth + 1));
    const picked: string[] = [];
    for (let j = 0; picked.length < choices - 1 && j < 1000; j++) {
      const c = band[hashOf(`${id}:distractor:${j}`) % band.length]!;
      const text = display(c.surface).toLowerCase();
      if (synonyms.has(c.lower) || picked.some((p) => p.toLowerCase() === text)) continue;
      if (text === display(answer.surface).toLowerCase()) continue;
      picked.push(display(c.surface));
    }
    if (picked.length < choices - 1) continue;
    const gold = hashOf(`${id}:gold`) % choices;
    const words = [...picked];
    words.splice(gold, 0, display(answer.surface));
    out.push({ doc: { id, pos, definition: s.definition, words, gold }, key: hashOf(`wordnet-definitions:${id}`) });
  }
  return out;
}

let all: readonly DefinitionDoc[] | undefined;

/** The sample: every eligible synset of every part of speech, ordered by a hash of its id (so any prefix
 * mixes the parts of speech about as WordNet does), the first `docs` of them. */
export function definitionDocs(): readonly DefinitionDoc[] {
  all ??= Object.freeze(
    DEFINITIONS_CONFIG.parts
      .flatMap((p) => posDocs(p))
      .sort((a, b) => a.key - b.key || (a.doc.id < b.doc.id ? -1 : 1))
      .slice(0, DEFINITIONS_CONFIG.docs)
      .map((x) => x.doc),
  );
  return all;
}

export const definitionPrompt = (d: DefinitionDoc) => `Definition: ${d.definition}\nWord:`;

export default multipleChoiceTask<DefinitionDoc>({
  name: 'wordnet-definitions',
  description:
    'Reverse dictionary: pick the word a WordNet 3.0 definition defines among four of the same part of ' +
    'speech and similar frequency, by the log-likelihood of " word" after "Definition: ...\\nWord:"; ' +
    'measures word knowledge.',
  docs: (limit) => (limit === undefined ? definitionDocs() : definitionDocs().slice(0, limit)),
  context: definitionPrompt,
  choices: (d) => d.words.map((w) => ` ${w}`),
  gold: (d) => d.gold,
  texts: (d) => [d.definition],
  numChoices: DEFINITIONS_CONFIG.choices,
  config: DEFINITIONS_CONFIG,
});
