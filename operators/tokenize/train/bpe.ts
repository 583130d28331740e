// Byte-level BPE training, GPT-2 style. Each pre-tokenized piece (GPT-2's pattern, count-split.ts)
// is its UTF-8 bytes; the vocabulary starts with the 256 bytes in GPT-2's order (byte-alphabet.ts);
// each step merges the adjacent pair with the highest count, counts weighted by how often each piece
// occurs, never across pieces. Pair counts are updated incrementally (merge-words.ts) and candidates
// kept in a lazy max-heap, so a step costs the occurrences of the merged pair, not a recount.
// Ties are broken deterministically: highest count, then the pair whose first token's bytes are
// byte-wise smallest, then whose second token's bytes are. A merge whose bytes are already a token
// (reached by another split) maps to that token and adds no id. Special tokens take the ids after
// the merges.
import { BYTE_ID, BYTE_ORDER, compareBytes } from './byte-alphabet.ts';
import { MAX_SYMBOLS, MergeWords, pairFirst, pairSecond } from './merge-words.ts';
import { PairHeap, type PairEntry } from './pair-heap.ts';

export interface BpeTrainOptions {
  /** total vocabulary, the 256 bytes and special tokens included */
  vocabSize: number;
  /** pairs seen fewer times than this are not merged (default 2) */
  minFrequency?: number;
  /** appended after the merges, e.g. <|endoftext|> */
  specials?: readonly string[];
}

export interface BpeModel {
  /** bytes of every ordinary token; the index is its id (= its tiktoken rank) */
  tokens: Uint8Array[];
  /** the merges in order: [left id, right id, result id] */
  merges: Array<[number, number, number]>;
  /** special tokens, with ids tokens.length, tokens.length + 1, ... */
  specials: string[];
}

const utf8 = new TextEncoder();

export function trainBpe(words: Iterable<[string, number]>, opts: BpeTrainOptions): BpeModel {
  const specials = [...(opts.specials ?? [])];
  const minFrequency = opts.minFrequency ?? 2;
  if (!(opts.vocabSize >= 256 + specials.length))
    throw new Error(
      `bpe: vocabSize ${opts.vocabSize} is below the 256 byte tokens plus ${specials.length} special tokens`,
    );
  if (opts.vocabSize > MAX_SYMBOLS) throw new Error(`bpe: vocabSize ${opts.vocabSize} is above ${MAX_SYMBOLS}`);
  const tokens: Uint8Array[] = BYTE_ORDER.map((b) => Uint8Array.of(b));
  const idOf = new Map<string, number>(tokens.map((t, id) => [Buffer.from(t).toString('latin1'), id]));
  const state = new MergeWords();
  for (const [piece, count] of words) {
    const bytes = utf8.encode(piece);
    if (bytes.length < 2 || count <= 0) continue; // no pair to merge
    const ids = new Int32Array(bytes.length);
    for (let k = 0; k < bytes.length; k++) ids[k] = BYTE_ID[bytes[k]!]!;
    state.add(ids, count);
  }

  const before = (x: PairEntry, y: PairEntry): boolean => {
    if (x.count !== y.count) return x.count > y.count;
    const c = compareBytes(tokens[pairFirst(x.key)]!, tokens[pairFirst(y.key)]!);
    if (c !== 0) return c < 0;
    return compareBytes(tokens[pairSecond(x.key)]!, tokens[pairSecond(y.key)]!) < 0;
  };
  const heap = new PairHeap(before);
  for (const [key, count] of state.pairCount) if (count > 0) heap.push({ key, count });

  const merges: Array<[number, number, number]> = [];
  const target = opts.vocabSize - specials.length;
  while (tokens.length < target) {
    const top = heap.pop();
    if (!top) break;
    const live = state.pairCount.get(top.key) ?? 0;
    if (live !== top.count) {
      if (live > 0) heap.push({ key: top.key, count: live });
      continue;
    }
    if (live < minFrequency) break;
    const a = pairFirst(top.key),
      b = pairSecond(top.key);
    const bytes = new Uint8Array(tokens[a]!.length + tokens[b]!.length);
    bytes.set(tokens[a]!);
    bytes.set(tokens[b]!, tokens[a]!.length);
    const name = Buffer.from(bytes).toString('latin1');
    let c = idOf.get(name);
    if (c === undefined) {
      c = tokens.length;
      tokens.push(bytes);
      idOf.set(name, c);
    }
    merges.push([a, b, c]);
    for (const key of state.merge(a, b, c)) heap.push({ key, count: state.pairCount.get(key)! });
  }
  return { tokens, merges, specials };
}
