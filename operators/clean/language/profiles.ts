// franc's trigram profiles (franc/data.js: per script, per language, 300 trigrams most frequent first)
// compiled once into integer tables. A trigram is three UTF-16 code units, keyed as (hi = first unit,
// lo = second << 16 | third); an open-addressing table maps keys to trigram ids, and each id has a
// run of postings (rank + 1, language index) packed in one integer. Scoring a sample then walks the postings of its distinct
// trigrams only, instead of looking every trigram up in every language's dictionary.
import { data } from 'franc/data.js';

export interface ScriptProfiles {
  /** languages of this script, in franc's order (its sort is stable, so a tie goes to the earlier) */
  langs: string[];
  /** hash table: slot -> trigram id, -1 empty; keys in keyHi/keyLo */
  slots: Int32Array;
  keyHi: Uint16Array;
  keyLo: Uint32Array;
  mask: number;
  /** postings of trigram id g: [start[g], start[g + 1]) in post, each (rank << 8) | language index,
   * rank being franc's weight (position in the profile) + 1, so that a distance term is |count - rank| */
  start: Int32Array;
  post: Int32Array;
}

/** A slot for (hi, lo) in a table of capacity mask + 1. */
export const hashKey = (hi: number, lo: number, mask: number): number =>
  (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 15) & mask;

function compile(languages: Record<string, string>): ScriptProfiles {
  const langs = Object.keys(languages);
  // key -> postings, in order of first appearance
  const byKey = new Map<number, Array<[number, number]>>();
  langs.forEach((lang, l) => {
    const model = languages[lang]!.split('|');
    const seen = new Set<string>();
    model.forEach((t, weight) => {
      if (t.length !== 3)
        throw new Error(`profiles: franc's ${lang} profile has a trigram "${t}" of length ${t.length}`);
      // franc keeps the smallest weight of a repeated trigram (it assigns from the end)
      if (seen.has(t)) return;
      seen.add(t);
      const k = t.charCodeAt(0) * 2 ** 32 + (((t.charCodeAt(1) << 16) | t.charCodeAt(2)) >>> 0);
      let list = byKey.get(k);
      if (!list) byKey.set(k, (list = []));
      list.push([l, weight + 1]);
    });
  });
  let cap = 1;
  while (cap < byKey.size * 2) cap <<= 1;
  const mask = cap - 1;
  const slots = new Int32Array(cap).fill(-1);
  const keyHi = new Uint16Array(byKey.size);
  const keyLo = new Uint32Array(byKey.size);
  const start = new Int32Array(byKey.size + 1);
  let total = 0;
  for (const list of byKey.values()) total += list.length;
  if (langs.length > 256) throw new Error(`profiles: ${langs.length} languages in one script do not fit 8 bits`);
  const post = new Int32Array(total);
  let id = 0,
    p = 0;
  for (const [k, list] of byKey) {
    const hi = Math.floor(k / 2 ** 32),
      lo = k % 2 ** 32;
    keyHi[id] = hi;
    keyLo[id] = lo;
    let s = hashKey(hi, lo, mask);
    while (slots[s] !== -1) s = (s + 1) & mask;
    slots[s] = id;
    start[id] = p;
    for (const [l, r] of list) post[p++] = (r << 8) | l;
    id++;
  }
  start[id] = p;
  return { langs, slots, keyHi, keyLo, mask, start, post };
}

let compiled: Map<string, ScriptProfiles> | undefined;

/** Profiles of each script franc scores by trigrams (Latin, Cyrillic, Arabic, ...), compiled on first use. */
export function scriptProfiles(): Map<string, ScriptProfiles> {
  compiled ??= new Map(Object.entries(data).map(([script, langs]) => [script, compile(langs)]));
  return compiled;
}

/** The trigram id of (hi, lo) in `p`, or -1 when no language of the script has it. */
export function trigramId(p: ScriptProfiles, hi: number, lo: number): number {
  let s = hashKey(hi, lo, p.mask);
  for (;;) {
    const id = p.slots[s]!;
    if (id === -1) return -1;
    if (p.keyLo[id] === lo && p.keyHi[id] === hi) return id;
    s = (s + 1) & p.mask;
  }
}
