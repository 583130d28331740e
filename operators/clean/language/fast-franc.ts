// franc's francAll, reproduced on integer tables: the same labels and the same scores, ~20x faster.
// franc (6.x) on a value: undetermined below minLength; else the first 2048 code units; the script
// with the most characters (scripts.ts); a script with one language answers it outright (or 'und' when
// nothing matched or the language is filtered out); otherwise, for each language of the script the
// distance sum over the sample's distinct trigrams t of (t in the profile ? |count(t) - weight(t) - 1|
// : 300), sorted ascending (stable: a tie keeps franc's language order) and rescaled to
// 1 - (d - d_min) / (300 * length - d_min). Here the distinct trigrams are counted in a hash table over
// code units, and each one's postings (profiles.ts) add 300 - |count - weight - 1| to its languages,
// so d = 300 * distinct - that sum, the same integer franc adds up.
import { scriptProfiles, hashKey, trigramId, type ScriptProfiles } from './profiles.ts';
import { SCRIPT_NAMES, topScript } from './scripts.ts';
import { SampleCleaner } from './clean-sample.ts';

const MAX_LENGTH = 2048;
const MIN_LENGTH = 10;
const MAX_DIFFERENCE = 300;

export interface FrancOptions {
  only?: readonly string[];
  ignore?: readonly string[];
  minLength?: number;
}

/** A sample's ranking: languages of one script with distances, or one answer from the script alone. */
export type Ranking =
  | { kind: 'und' }
  | { kind: 'script'; lang: string; count: number }
  | { kind: 'trigrams'; profiles: ScriptProfiles; allowed: Uint8Array; distance: Int32Array; length: number };

const allow = (lang: string, only: readonly string[], ignore: readonly string[]) =>
  (only.length === 0 || only.includes(lang)) && !ignore.includes(lang);

// per-sample trigram counts: open addressing with a stamp per slot, so nothing is cleared between samples
const CAP = 1 << 13;
const slotStamp = new Int32Array(CAP);
const slotHi = new Uint16Array(CAP);
const slotLo = new Uint32Array(CAP);
const slotCount = new Int32Array(CAP);
const slotId = new Int32Array(CAP);
const used = new Int32Array(CAP);
let stamp = 0;
const cleaner = new SampleCleaner();
const allowedCache = new Map<string, Uint8Array>();

/** Distances of every language of `p` to the cleaned sample; the number of distinct trigrams. */
function distances(p: ScriptProfiles, out: Int32Array): void {
  const buf = cleaner.buf,
    n = cleaner.length;
  if (++stamp === 0x7fffffff) {
    slotStamp.fill(0);
    stamp = 1;
  }
  let distinct = 0;
  for (let i = 0; i + 2 < n; i++) {
    const hi = buf[i]!,
      lo = ((buf[i + 1]! << 16) | buf[i + 2]!) >>> 0;
    let s = hashKey(hi, lo, CAP - 1);
    for (;;) {
      if (slotStamp[s] !== stamp) {
        slotStamp[s] = stamp;
        slotHi[s] = hi;
        slotLo[s] = lo;
        slotCount[s] = 1;
        slotId[s] = trigramId(p, hi, lo);
        used[distinct++] = s;
        break;
      }
      if (slotLo[s] === lo && slotHi[s] === hi) {
        slotCount[s]!++;
        break;
      }
      s = (s + 1) & (CAP - 1);
    }
  }
  out.fill(0);
  const { start, post } = p;
  for (let j = 0; j < distinct; j++) {
    const s = used[j]!,
      id = slotId[s]!;
    if (id < 0) continue;
    const count = slotCount[s]!;
    for (let q = start[id]!, e = start[id + 1]!; q < e; q++) {
      const v = post[q]!;
      const diff = count - (v >> 8);
      out[v & 0xff]! += MAX_DIFFERENCE - (diff < 0 ? -diff : diff);
    }
  }
  const base = MAX_DIFFERENCE * distinct;
  for (let l = 0; l < out.length; l++) out[l] = base - out[l]!;
}

const distanceBuffers = new Map<ScriptProfiles, Int32Array>();

/** franc's analysis of `value` before its final sort (the distance buffer is reused by the next call). */
export function rank(value: string, opts: FrancOptions = {}): Ranking {
  const only = opts.only ?? [],
    ignore = opts.ignore ?? [];
  const minLength = opts.minLength ?? MIN_LENGTH;
  if (!value || value.length < minLength) return { kind: 'und' };
  const sample = value.slice(0, MAX_LENGTH);
  const { script, count } = topScript(sample);
  const name = SCRIPT_NAMES[script]!;
  const profiles = scriptProfiles().get(name);
  if (!profiles) {
    if (count === 0 || !allow(name, only, ignore)) return { kind: 'und' };
    return { kind: 'script', lang: name, count };
  }
  const key = `${name}\0${only.join(',')}\0${ignore.join(',')}`;
  let allowed = allowedCache.get(key);
  if (!allowed) {
    allowed = Uint8Array.from(profiles.langs, (l) => (allow(l, only, ignore) ? 1 : 0));
    if (allowedCache.size > 64) allowedCache.clear();
    allowedCache.set(key, allowed);
  }
  if (!allowed.includes(1)) return { kind: 'und' };
  let distance = distanceBuffers.get(profiles);
  if (!distance) distanceBuffers.set(profiles, (distance = new Int32Array(profiles.langs.length)));
  cleaner.clean(sample);
  distances(profiles, distance);
  return { kind: 'trigrams', profiles, allowed, distance, length: sample.length };
}

/** franc's rescaling of a distance given the best one. */
const normalized = (d: number, min: number, length: number): number =>
  1 - (d - min) / (length * MAX_DIFFERENCE - min) || 0;

/** The best language and the runner-up's score (0 when there is none), as francAll's first two tuples. */
export function top2(r: Ranking): { lang: string; runnerUp: number } {
  if (r.kind === 'und') return { lang: 'und', runnerUp: 0 };
  if (r.kind === 'script') return { lang: r.lang, runnerUp: 0 };
  const { distance: d, allowed } = r;
  let best = -1,
    second = -1;
  for (let l = 0; l < d.length; l++) {
    if (!allowed[l]) continue;
    // strict comparisons: on a tie the earlier language stays ahead, as in franc's stable sort
    if (best < 0 || d[l]! < d[best]!) {
      second = best;
      best = l;
    } else if (second < 0 || d[l]! < d[second]!) second = l;
  }
  const min = d[best]!;
  return { lang: r.profiles.langs[best]!, runnerUp: second < 0 ? 0 : normalized(d[second]!, min, r.length) };
}

/** Exactly franc's francAll(value, options): [language, score] from best to worst. */
export function fastFrancAll(value: string, opts: FrancOptions = {}): Array<[string, number]> {
  const r = rank(value, opts);
  if (r.kind === 'und') return [['und', 1]];
  if (r.kind === 'script') return [[r.lang, 1]];
  const idx: number[] = [];
  for (let l = 0; l < r.distance.length; l++) if (r.allowed[l]) idx.push(l);
  const d = r.distance;
  idx.sort((a, b) => d[a]! - d[b]! || a - b);
  const min = d[idx[0]!]!;
  return idx.map((l) => [r.profiles.langs[l]!, normalized(d[l]!, min, r.length)]);
}
