// Simple reference implementations the trainers are checked against: a byte-level BPE trainer that
// recounts every pair over every word before each merge, and an encoder that applies a merge list in
// order (lowest-ranked adjacent pair first, leftmost among equal ones).
import { BYTE_ID, compareBytes, BYTE_ORDER } from '../../../../operators/tokenize/train/byte-alphabet.ts';
import { gpt2Pieces } from '../../../../operators/tokenize/train/count-split.ts';
import { proseSample } from '../samples.ts';

const utf8 = new TextEncoder();

/** GPT-2 pre-tokenizer pieces of a sample of the real corpora, with their counts. */
export function realWords(maxChars: number, offset = 0): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const d of proseSample(maxChars, offset)) gpt2Pieces(d, (p) => m.set(p, (m.get(p) ?? 0) + 1));
  return [...m];
}

/** Merges as [left bytes, right bytes] byte strings (latin1), in order. */
export function referenceBpe(words: Array<[string, number]>, vocabSize: number, minFrequency = 2): string[][] {
  const tokens: Uint8Array[] = BYTE_ORDER.map((b) => Uint8Array.of(b));
  const idOf = new Map(tokens.map((t, id) => [Buffer.from(t).toString('latin1'), id]));
  const seqs = words.map(([w, n]) => ({ ids: Array.from(utf8.encode(w), (b) => BYTE_ID[b]!), n }));
  const merges: string[][] = [];
  while (tokens.length < vocabSize) {
    const counts = new Map<string, number>();
    for (const { ids, n } of seqs)
      for (let k = 0; k + 1 < ids.length; k++) {
        const key = `${ids[k]},${ids[k + 1]}`;
        counts.set(key, (counts.get(key) ?? 0) + n);
      }
    let best: [number, number] | undefined;
    let bestCount = 0;
    for (const [key, count] of counts) {
      const [a, b] = key.split(',').map(Number) as [number, number];
      const better =
        count > bestCount ||
        (count === bestCount &&
          best !== undefined &&
          (compareBytes(tokens[a]!, tokens[best[0]]!) || compareBytes(tokens[b]!, tokens[best[1]]!)) < 0);
      if (better) {
        best = [a, b];
        bestCount = count;
      }
    }
    if (!best || bestCount < minFrequency) break;
    const [a, b] = best;
    const bytes = Buffer.concat([tokens[a]!, tokens[b]!]);
    let c = idOf.get(bytes.toString('latin1'));
    if (c === undefined) {
      c = tokens.length;
      tokens.push(new Uint8Array(bytes));
      idOf.set(bytes.toString('latin1'), c);
    }
    merges.push([Buffer.from(tokens[a]!).toString('latin1'), Buffer.from(tokens[b]!).toString('latin1')]);
    for (const s of seqs) {
      const out: number[] = [];
      for (let k = 0; k < s.ids.length; )
        if (k + 1 < s.ids.length && s.ids[k] === a && s.ids[k + 1] === b) {
          out.push(c);
          k += 2;
        } else out.push(s.ids[k++]!);
      s.ids = out;
    }
  }
  return merges;
}

/** An encoder applying `merges` ([left id, right id, result id], in order) to the bytes of a piece. */
export function mergeEncoder(merges: ReadonlyArray<readonly [number, number, number]>): (piece: string) => number[] {
  const rank = new Map(merges.map(([a, b], r) => [`${a},${b}`, r]));
  return (piece) => {
    const ids = Array.from(utf8.encode(piece), (b) => BYTE_ID[b]!);
    for (;;) {
      let best = -1,
        at = -1;
      for (let k = 0; k + 1 < ids.length; k++) {
        const r = rank.get(`${ids[k]},${ids[k + 1]}`);
        if (r !== undefined && (best < 0 || r < best)) {
          best = r;
          at = k;
        }
      }
      if (best < 0) return ids;
      ids.splice(at, 2, merges[best]![2]);
    }
  };
}
