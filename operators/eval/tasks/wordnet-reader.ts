// Reading Princeton WordNet 3.0's database files as Debian's wordnet-base installs them
// (/usr/share/wordnet; WNSEARCHDIR overrides, as for the wordnet tools). Formats from wndb(5):
//   data.POS:    synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt [ptr...] [frames...] | gloss
//                (w_cnt and lex_id hexadecimal, p_cnt decimal, each ptr four fields; license lines start with spaces)
//   cntlist.rev: sense_key sense_number tag_cnt, the sense key lemma%ss_type:lex_filenum:lex_id:head_word:head_id
//                (ss_type 1 noun, 2 verb, 3 adjective, 4 adverb, 5 adjective satellite), tag_cnt the times the
//                sense is tagged in the semantic concordance: a word frequency, for the frequency bands.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type WordnetPos = 'n' | 'v' | 'a' | 'r';

export interface Synset {
  /** byte offset in data.POS: the synset's id within its part of speech */
  offset: string;
  /** adjective satellites ('s') count as adjectives */
  pos: WordnetPos;
  /** the synset's words as written (underscores for spaces, adjective markers such as "(p)" removed) */
  words: string[];
  /** the definition: the gloss without its quoted examples */
  definition: string;
}

export const wordnetDir = () => process.env.WNSEARCHDIR ?? '/usr/share/wordnet';

/** True when the WordNet database files are there (Debian: apt-get install wordnet-base). */
export const wordnetInstalled = (dir = wordnetDir()) => existsSync(join(dir, 'data.noun'));

const FILES: Record<WordnetPos, string> = { n: 'data.noun', v: 'data.verb', a: 'data.adj', r: 'data.adv' };

/** The definition part of a gloss: what comes before the first quoted example ('; "...'). */
export function glossDefinition(gloss: string): string {
  const cut = gloss.search(/(^|;)\s*"/);
  return (cut < 0 ? gloss : gloss.slice(0, cut)).trim();
}

/** One data-file line as a Synset; undefined for license lines. */
export function parseDataLine(line: string): Synset | undefined {
  if (line.length === 0 || line.startsWith(' ')) return undefined;
  const bar = line.indexOf(' | ');
  const fields = (bar < 0 ? line : line.slice(0, bar)).trim().split(' ');
  const [offset, , ssType, wCnt] = fields;
  if (!offset || !/^\d{8}$/.test(offset) || !ssType || !wCnt)
    throw new Error(`WordNet data line is not "offset lex_filenum ss_type w_cnt ...": ${line.slice(0, 80)}`);
  const n = Number.parseInt(wCnt, 16);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(fields[4 + 2 * i]!.replace(/\((a|p|ip)\)$/, ''));
  const pos = (ssType === 's' ? 'a' : ssType) as WordnetPos;
  return { offset, pos, words, definition: bar < 0 ? '' : glossDefinition(line.slice(bar + 3)) };
}

const synsetCache = new Map<WordnetPos, readonly Synset[]>();

/** Every synset of a part of speech, in file (offset) order. */
export function readSynsets(pos: WordnetPos, dir = wordnetDir()): readonly Synset[] {
  const hit = dir === wordnetDir() ? synsetCache.get(pos) : undefined;
  if (hit) return hit;
  const file = join(dir, FILES[pos]);
  if (!existsSync(file)) throw new Error(`WordNet file ${file} is missing; install wordnet-base (or set WNSEARCHDIR)`);
  const out: Synset[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const s = parseDataLine(line);
    if (s) out.push(s);
  }
  if (dir === wordnetDir()) synsetCache.set(pos, out);
  return out;
}

const SS_TYPE_POS: Record<string, WordnetPos> = { '1': 'n', '2': 'v', '3': 'a', '4': 'r', '5': 'a' };
let countCache: Map<string, number> | undefined;

/** Tagged-sense counts per lemma and part of speech, summed over the lemma's senses; key `pos:lemma`
 * (lemma lower-case, underscores for spaces). A lemma missing from the map was never tagged. */
export function lemmaCounts(dir = wordnetDir()): Map<string, number> {
  if (countCache && dir === wordnetDir()) return countCache;
  const file = join(dir, 'cntlist.rev');
  if (!existsSync(file)) throw new Error(`WordNet file ${file} is missing; install wordnet-base (or set WNSEARCHDIR)`);
  const out = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\S+)%(\d):\S+ \d+ (\d+)$/.exec(line.trim());
    const pos = m ? SS_TYPE_POS[m[2]!] : undefined;
    if (!m || !pos) continue;
    const key = `${pos}:${m[1]!.toLowerCase()}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[3]));
  }
  if (dir === wordnetDir()) countCache = out;
  return out;
}
