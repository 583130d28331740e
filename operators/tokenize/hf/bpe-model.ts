// Hugging Face's BPE model (models/bpe): a word's characters (with continuing_subword_prefix after the
// first and end_of_word_suffix on the last), a character not in the vocabulary as its <0xXX> byte
// tokens (byte_fallback) or the unknown token (consecutive ones fused with fuse_unk), then merges
// applied lowest rank first, leftmost among equal ranks, as Word::merge_all does.
import { byteTokenIds } from '../load/loaded-tokenizer.ts';
import { heapPop, heapPush } from '../engine/number-heap.ts';
import { type Json, bool, list } from './json.ts';

export type EncodeWord = (word: string) => number[];

export function bpeModel(o: Json, vocab: Map<string, number>, where: string): EncodeWord {
  const prefix = typeof o.continuing_subword_prefix === 'string' ? o.continuing_subword_prefix : '';
  const suffix = typeof o.end_of_word_suffix === 'string' ? o.end_of_word_suffix : '';
  const ignoreMerges = bool(o, 'ignore_merges', false);
  const fuseUnk = bool(o, 'fuse_unk', false);
  const unk = typeof o.unk_token === 'string' ? vocab.get(o.unk_token) : undefined;
  const bytes = bool(o, 'byte_fallback', false) ? byteTokenIds((p) => vocab.get(p)) : undefined;
  // merges: (left id, right id) -> rank and the merged id; "a b" strings or [a, b] pairs
  const merges = new Map<number, number>();
  const mergedId: number[] = [];
  list(o, 'merges', where).forEach((m, rank) => {
    const [a, b] = typeof m === 'string' ? splitMerge(m) : Array.isArray(m) ? (m as string[]) : [];
    // the merged token drops the right part's continuing prefix, as HF's BpeBuilder does
    const ia = vocab.get(a ?? ''),
      ib = vocab.get(b ?? ''),
      im = vocab.get(`${a}${(b ?? '').slice(prefix.length)}`);
    if (ia === undefined || ib === undefined || im === undefined)
      throw new Error(`${where}.merges[${rank}]: ${JSON.stringify(m)} names a token not in the vocabulary`);
    const key = ia * 0x200000 + ib;
    if (!merges.has(key)) {
      merges.set(key, rank);
      mergedId[rank] = im;
    }
  });
  const utf8 = new TextEncoder();
  return (word) => {
    if (ignoreMerges) {
      const whole = vocab.get(word);
      if (whole !== undefined) return [whole];
    }
    const ids: number[] = [];
    let prevUnk = false;
    const cps = [...word];
    cps.forEach((c, k) => {
      const s = (k > 0 ? prefix : '') + c + (k === cps.length - 1 ? suffix : '');
      const id = vocab.get(s);
      if (id !== undefined) {
        ids.push(id);
        prevUnk = false;
        return;
      }
      if (bytes) {
        for (const b of utf8.encode(c)) ids.push(bytes[b]!);
        prevUnk = false;
        return;
      }
      if (unk === undefined) return; // no unknown token: the character is dropped, as HF does
      if (!(fuseUnk && prevUnk)) ids.push(unk);
      prevUnk = true;
    });
    return merge(ids, merges, mergedId);
  };
}

function splitMerge(m: string): [string, string] {
  const at = m.indexOf(' ', 1);
  return [m.slice(0, at), m.slice(at + 1)];
}

/** Applies the merges, lowest rank first and leftmost among equals: a scan per merge for short
 * words, a heap of candidate pairs (rank, position) for long ones (a run of symbols with no space). */
function merge(ids: number[], merges: Map<number, number>, mergedId: number[]): number[] {
  if (ids.length > 48) return mergeLong(ids, merges, mergedId);
  for (;;) {
    let best = -1,
      bestRank = Number.POSITIVE_INFINITY;
    for (let k = 0; k + 1 < ids.length; k++) {
      const r = merges.get(ids[k]! * 0x200000 + ids[k + 1]!);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = k;
      }
    }
    if (best < 0) return ids;
    ids.splice(best, 2, mergedId[bestRank]!);
  }
}

function mergeLong(ids: number[], merges: Map<number, number>, mergedId: number[]): number[] {
  const m = ids.length;
  const id = Int32Array.from(ids);
  const next = new Int32Array(m).map((_, k) => (k + 1 < m ? k + 1 : -1));
  const prev = new Int32Array(m).map((_, k) => k - 1);
  const heap: number[] = [];
  const span = 0x200000; // positions < 2^21
  const rankAt = (k: number) => (next[k]! < 0 ? undefined : merges.get(id[k]! * 0x200000 + id[next[k]!]!));
  for (let k = 0; k + 1 < m; k++) {
    const r = rankAt(k);
    if (r !== undefined) heapPush(heap, r * span + k);
  }
  while (heap.length > 0) {
    const key = heapPop(heap);
    const k = key % span;
    const r = (key - k) / span;
    if (id[k]! < 0 || rankAt(k) !== r) continue; // stale
    const gone = next[k]!;
    id[k] = mergedId[r]!;
    id[gone] = -1;
    next[k] = next[gone]!;
    if (next[k]! >= 0) prev[next[k]!] = k;
    const after = rankAt(k);
    if (after !== undefined) heapPush(heap, after * span + k);
    const p = prev[k]!;
    if (p >= 0) {
      const before = rankAt(p);
      if (before !== undefined) heapPush(heap, before * span + p);
    }
  }
  const out: number[] = [];
  for (let k = 0; k >= 0; k = next[k]!) out.push(id[k]!);
  return out;
}
