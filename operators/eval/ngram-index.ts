// The eval-set n-gram index of decontamination (the conventions of the GPT-3 paper, appendix C, and
// lm-evaluation-harness's janitor): text is normalised (lower-cased; every character that is not a
// letter, digit or combining mark, i.e. punctuation, symbols and whitespace, separates words) and cut
// into word n-grams (n = 13 by default). Unlike the janitor, which deletes ASCII punctuation ("it's" ->
// "its"), punctuation becomes a space here ("it's" -> "it s"): the same rule on both sides, so matches
// are the same but for words glued by punctuation.
//
// Nothing is concatenated: each word is hashed as it is scanned (two 32-bit hashes of its lower-cased
// UTF-16 units), a window's key is a polynomial of its words' hashes in two 32-bit lanes (~64 bits,
// rolled one word at a time), and keys live in an open-addressing table of typed arrays. Each key
// points to the eval items holding it (a linked list of postings).
//
// Eval items with fewer than n words (but at least minWords) are indexed whole, as one n-gram of their
// length (GPT-3 did so for short items); training text is then also scanned with windows of each such
// length. Items shorter than minWords are not indexed: a three-word item would match most documents.

const B1 = 0x01000193; // FNV prime: the lanes' polynomial bases (odd, so multiplying is invertible mod 2^32)
const B2 = 0x9e3779b1;

import { NgramTable } from './ngram-table.ts';

// Per UTF-16 unit: 0 not yet classified, -1 a separator, else the lower-cased unit + 1.
const units = new Int32Array(0x10000);
const WORD = /[\p{L}\p{N}\p{M}]/u;
for (let c = 0; c < 128; c++) {
  const isWord = (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
  units[c] = isWord ? (c >= 65 && c <= 90 ? c + 32 : c) + 1 : -1;
}
function classify(c: number): number {
  const ch = String.fromCharCode(c);
  // a lone surrogate is classified with its pair by the caller; here it separates
  const v = WORD.test(ch) ? ch.toLowerCase().charCodeAt(0) + 1 : -1;
  units[c] = v;
  return v;
}

/** The words of a text as hash pairs, in growable typed arrays reused from text to text. */
export class WordHashes {
  lo = new Uint32Array(1024);
  hi = new Uint32Array(1024);
  count = 0;

  private push(a: number, b: number): void {
    if (this.count === this.lo.length) {
      const lo = new Uint32Array(this.count * 2);
      const hi = new Uint32Array(this.count * 2);
      lo.set(this.lo);
      hi.set(this.hi);
      this.lo = lo;
      this.hi = hi;
    }
    this.lo[this.count] = a;
    this.hi[this.count++] = b;
  }

  /** Replaces the words held with those of `text` (normalised as the file's header says). */
  read(text: string): this {
    this.count = 0;
    let a = 0x811c9dc5; // FNV-1a offset basis
    let b = 0x6a09e667;
    let inWord = false;
    const len = text.length;
    for (let i = 0; i < len; i++) {
      const c = text.charCodeAt(i);
      let u = units[c]!;
      if (u === 0) {
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
          // a pair: a word character when its code point is one (e.g. letters outside the BMP)
          const s = String.fromCodePoint(text.codePointAt(i)!);
          if (WORD.test(s)) {
            const low = s.toLowerCase();
            a = Math.imul(a ^ low.charCodeAt(0), 0x01000193);
            a = Math.imul(a ^ low.charCodeAt(1), 0x01000193);
            b = Math.imul(b ^ low.charCodeAt(0), 0x5bd1e995) ^ (b >>> 15);
            b = Math.imul(b ^ low.charCodeAt(1), 0x5bd1e995) ^ (b >>> 15);
            inWord = true;
            i++;
            continue;
          }
          u = -1;
          i++;
        } else u = classify(c);
      }
      if (u > 0) {
        a = Math.imul(a ^ u, 0x01000193);
        b = Math.imul(b ^ u, 0x5bd1e995) ^ (b >>> 15);
        inWord = true;
      } else if (inWord) {
        this.push(a >>> 0, b >>> 0);
        a = 0x811c9dc5;
        b = 0x6a09e667;
        inWord = false;
      }
    }
    if (inWord) this.push(a >>> 0, b >>> 0);
    return this;
  }
}

/** The normalised words of a text, as strings (for reports and tests; the index never makes them). */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}\p{M}]+/u)
    .filter((w) => w.length > 0);
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** B^k mod 2^32 */
function pow32(base: number, k: number): number {
  let r = 1;
  for (let i = 0; i < k; i++) r = Math.imul(r, base);
  return r;
}

/**
 * Calls `fn(keyLo, keyHi, start)` for every window of `len` words of `w` (start: its first word). A
 * window's key depends only on its words and `len`.
 */
export function forEachWindow(w: WordHashes, len: number, fn: (lo: number, hi: number, start: number) => void): void {
  if (w.count < len) return;
  const top1 = pow32(B1, len - 1);
  const top2 = pow32(B2, len - 1);
  let k1 = 0;
  let k2 = 0;
  for (let i = 0; i < len; i++) {
    k1 = (Math.imul(k1, B1) + w.lo[i]!) | 0;
    k2 = (Math.imul(k2, B2) + w.hi[i]!) | 0;
  }
  const salt = Math.imul(len, 0x27d4eb2f);
  for (let s = 0; ; s++) {
    fn(fmix(k1 ^ salt), fmix(k2 + salt), s);
    const next = s + len;
    if (next >= w.count) return;
    k1 = (Math.imul((k1 - Math.imul(w.lo[s]!, top1)) | 0, B1) + w.lo[next]!) | 0;
    k2 = (Math.imul((k2 - Math.imul(w.hi[s]!, top2)) | 0, B2) + w.hi[next]!) | 0;
  }
}

/** An eval item holding a key: its task (index in the list indexed) and its document index. */
export interface Posting {
  task: number;
  item: number;
}

export interface NgramIndexOptions {
  /** words per n-gram */
  n: number;
  /** items with fewer words are not indexed (see the header) */
  minWords: number;
}

/** Keys of eval items' n-grams, each with the items holding it. */
export class NgramIndex {
  private readonly table = new NgramTable();
  /** the window lengths training text is scanned with: n, and each short item's length */
  readonly lengths = new Set<number>();
  private readonly words = new WordHashes();

  constructor(readonly options: NgramIndexOptions) {
    if (!Number.isInteger(options.n) || options.n < 1)
      throw new Error(`n-gram index: n must be >= 1, got ${options.n}`);
    this.lengths.add(options.n);
  }

  /** distinct keys held */
  get keys(): number {
    return this.table.size;
  }

  /** Indexes one eval item's texts; false when it is too short to be checked (under minWords words). */
  add(task: number, item: number, texts: readonly string[]): boolean {
    let indexed = false;
    const { n, minWords } = this.options;
    for (const text of texts) {
      const w = this.words.read(text);
      if (w.count < Math.min(n, minWords)) continue;
      const len = Math.min(n, w.count);
      this.lengths.add(len);
      forEachWindow(w, len, (lo, hi) => this.table.add(lo, hi, task, item));
      indexed = true;
    }
    return indexed;
  }

  /** Calls `hit` for each posting of each window of `text` found in the index (a posting once per window). */
  scan(text: string, hit: (p: Posting) => void): void {
    const w = this.words.read(text);
    const t = this.table;
    for (const len of this.lengths)
      forEachWindow(w, len, (lo, hi) => {
        for (let p = t.first(lo, hi); p >= 0; p = t.nextOf(p)) hit({ task: t.taskOf(p), item: t.itemOf(p) });
      });
  }

  /** true when some window of `text` is in the index */
  has(text: string): boolean {
    let found = false;
    this.scan(text, () => {
      found = true;
    });
    return found;
  }
}
