// A labelled near-duplicate set from real documents, and its ground truth computed exactly.
// Copies: exact, and with word edits (substitution, deletion or insertion of a word drawn from the
// corpus) at known rates. Truth: a document is a duplicate when its word-shingle set has Jaccard >= t
// with some earlier document in the stream. Computed on exact shingle sets with an all-pairs
// similarity join (prefix filtering: if J(x, y) >= t, the first |x| - ceil(t|x|) + 1 shingles of x and
// of y in a common rarest-first order share one), then verified by exact set intersection.
import { wordsOf } from '../../../operators/dedup/minhash/tokens.ts';
import { rng, type Text } from './corpus.ts';

export const EDIT_RATES = [0.01, 0.02, 0.05, 0.1, 0.3] as const;

export interface Labelled extends Text {
  origin: string;
  rate: number | 'exact' | 'original';
}

/** Applies word edits at `rate` (per word: a third each substitution, deletion, insertion). */
export function editWords(text: string, rate: number, vocab: readonly string[], rand: () => number): string {
  const parts = text.split(/(\s+)/); // words at even indices, the whitespace between at odd ones
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i % 2 === 1 || p === '' || rand() >= rate) {
      out.push(p);
      continue;
    }
    const kind = rand();
    const word = vocab[Math.floor(rand() * vocab.length)]!;
    if (kind < 1 / 3) out.push(word);
    else if (kind < 2 / 3) out.push('');
    else out.push(p, ' ', word);
  }
  return out.join('');
}

/** Originals, an exact copy of each and one copy per edit rate, shuffled. */
export function labelledSet(originals: readonly Text[], seed: number): Labelled[] {
  const rand = rng(seed);
  const vocab = [
    ...new Set(originals.flatMap((o) => o.text.split(/\s+/).slice(0, 200)).filter((w) => /^[A-Za-z]+$/.test(w))),
  ];
  const docs: Labelled[] = [];
  for (const o of originals) {
    docs.push({ ...o, origin: o.id, rate: 'original' });
    docs.push({ id: `${o.id}#exact`, text: o.text, origin: o.id, rate: 'exact' });
    for (const r of EDIT_RATES)
      docs.push({ id: `${o.id}#${r}`, text: editWords(o.text, r, vocab, rand), origin: o.id, rate: r });
  }
  for (let i = docs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [docs[i], docs[j]] = [docs[j]!, docs[i]!];
  }
  return docs;
}

const jaccardSorted = (a: Int32Array, b: Int32Array): number => {
  let i = 0,
    j = 0,
    inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else {
      inter++;
      i++;
      j++;
    }
  }
  return inter / (a.length + b.length - inter);
};

/** Each text's set of word shingles as sorted exact ids: words are interned, then each shingle (a tuple
 * of word ids; a text shorter than `size` words is one shorter tuple) is interned in a table that
 * compares whole tuples, so equal ids mean equal shingles. Agrees with tokens.ts `shingleSet`. */
export function wordShingleSets(texts: readonly string[], size: number): { sets: Int32Array[]; count: number } {
  const wordIds = new Map<string, number>();
  let tuples = new Int32Array(1 << 20); // size ints per shingle id
  let slots = new Int32Array(1 << 20).fill(-1);
  let count = 0;
  const hashAt = (ws: Int32Array, at: number, len: number) => {
    let h = 0;
    for (let k = 0; k < size; k++) h = Math.imul(h ^ (k < len ? ws[at + k]! : -1), 0x01000193) ^ (h >>> 15);
    return h >>> 0;
  };
  const same = (id: number, ws: Int32Array, at: number, len: number) => {
    for (let k = 0; k < size; k++) if (tuples[id * size + k] !== (k < len ? ws[at + k]! : -1)) return false;
    return true;
  };
  const intern = (ws: Int32Array, at: number, len: number): number => {
    if (count * 2 >= slots.length) {
      // grow and rehash
      const old = slots;
      slots = new Int32Array(old.length * 2).fill(-1);
      for (const id of old)
        if (id >= 0) {
          let i = hashAt(tuples, id * size, size) & (slots.length - 1);
          while (slots[i]! >= 0) i = (i + 1) & (slots.length - 1);
          slots[i] = id;
        }
    }
    let i = hashAt(ws, at, len) & (slots.length - 1);
    for (; slots[i]! >= 0; i = (i + 1) & (slots.length - 1)) if (same(slots[i]!, ws, at, len)) return slots[i]!;
    if ((count + 1) * size > tuples.length) {
      const t = new Int32Array(tuples.length * 2);
      t.set(tuples);
      tuples = t;
    }
    for (let k = 0; k < size; k++) tuples[count * size + k] = k < len ? ws[at + k]! : -1;
    slots[i] = count;
    return count++;
  };
  const sets = texts.map((text) => {
    const ws = Int32Array.from(wordsOf(text), (w) => {
      let id = wordIds.get(w);
      if (id === undefined) wordIds.set(w, (id = wordIds.size));
      return id;
    });
    if (ws.length === 0) return new Int32Array(0);
    if (ws.length < size) return Int32Array.of(intern(ws, 0, ws.length));
    const ids = new Int32Array(ws.length - size + 1);
    for (let i = 0; i < ids.length; i++) ids[i] = intern(ws, i, size);
    ids.sort();
    let u = 0;
    for (let i = 0; i < ids.length; i++) if (i === 0 || ids[i] !== ids[i - 1]) ids[u++] = ids[i]!;
    return ids.slice(0, u);
  });
  return { sets, count };
}

export interface Truth {
  /** per document: has Jaccard >= t with an earlier one */
  duplicate: boolean[];
  /** per document: Jaccard with its original (for reporting by edit rate) */
  toOrigin: number[];
}

export function groundTruth(docs: readonly Labelled[], size: number, t: number): Truth {
  const { sets: byId, count } = wordShingleSets(
    docs.map((d) => d.text),
    size,
  );
  const freq = new Int32Array(count);
  for (const s of byId) for (const x of s) freq[x]!++;
  // rank: rarest first (ties by id), so prefixes hold the most selective shingles
  let maxFreq = 0;
  for (const f of freq) if (f > maxFreq) maxFreq = f;
  const start = new Int32Array(maxFreq + 2); // counting sort by frequency
  for (const f of freq) start[f + 1]!++;
  for (let f = 1; f < start.length; f++) start[f]! += start[f - 1]!;
  const rank = new Int32Array(count);
  for (let id = 0; id < count; id++) rank[id] = start[freq[id]!]!++;
  const sets = byId.map((s) => s.map((x) => rank[x]!).sort());
  const index = new Map<number, number[]>(); // shingle rank -> earlier documents with it in their prefix
  const duplicate = docs.map(() => false);
  for (let i = 0; i < sets.length; i++) {
    const x = sets[i]!;
    if (x.length === 0) continue;
    const prefix = x.length - Math.ceil(t * x.length) + 1;
    const seen = new Set<number>();
    for (let p = 0; p < prefix && !duplicate[i]; p++) {
      for (const j of index.get(x[p]!) ?? []) {
        if (seen.has(j)) continue;
        seen.add(j);
        const y = sets[j]!;
        if (Math.min(x.length, y.length) >= t * Math.max(x.length, y.length) && jaccardSorted(x, y) >= t) {
          duplicate[i] = true;
          break;
        }
      }
    }
    for (let p = 0; p < prefix; p++) {
      const l = index.get(x[p]!);
      if (l) l.push(i);
      else index.set(x[p]!, [i]);
    }
  }
  const at = new Map(docs.map((d, i) => [d.id, i] as const));
  const toOrigin = docs.map((d, i) => jaccardSorted(sets[i]!, sets[at.get(d.origin)!]!));
  return { duplicate, toOrigin };
}
