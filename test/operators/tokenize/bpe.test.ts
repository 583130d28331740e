// The BPE merge: the heap path for long pieces makes exactly the merges of the simple loop, and long
// runs (thousands of letters, spaces) come out as tiktoken encodes them.
import { describe, expect, it } from 'vitest';
import { BytePairEncoder } from '../../../operators/tokenize/engine/bpe.ts';
import { ENCODING, rankTable, type EncodingName } from '../../../operators/tokenize/engine/encodings.ts';
import { createEngine } from '../../../operators/tokenize/engine/engines.ts';
import { IdBuffer } from '../../../operators/tokenize/engine/id-buffer.ts';
import { MULTILINGUAL, proseSample, spamSample } from './samples.ts';

/** The distinct pre-tokenizer pieces of `docs`. */
function distinctPieces(encoding: EncodingName, docs: string[]): string[] {
  const { pieceEnd } = ENCODING[encoding];
  const seen = new Set<string>();
  for (const d of docs)
    for (let i = 0; i < d.length; ) {
      const j = pieceEnd(d, i, d.length);
      seen.add(d.slice(i, j));
      i = j;
    }
  return [...seen];
}

const encodeWith = (bpe: BytePairEncoder, piece: string) => {
  const out = new Int32Array(3 * piece.length);
  return Array.from(out.subarray(0, bpe.encode(piece, 0, piece.length, out, 0)));
};

describe.each(['cl100k', 'o200k'] as const)('%s byte-pair merge', (encoding) => {
  it('merges every piece of real text the same way on the heap path as in the simple loop', () => {
    const pieces = distinctPieces(encoding, [...proseSample(80_000, 4), ...spamSample(80_000, 4), ...MULTILINGUAL]);
    expect(pieces.length).toBeGreaterThan(5_000);
    const loop = new BytePairEncoder(rankTable(encoding));
    const heap = new BytePairEncoder(rankTable(encoding), 1); // every piece of 2+ bytes takes the heap path
    let merged = 0;
    for (const p of pieces) {
      const want = encodeWith(loop, p);
      expect(encodeWith(heap, p), JSON.stringify(p)).toEqual(want);
      if (want.length > 1) merged++;
    }
    expect(merged).toBeGreaterThan(500); // plenty of pieces are not a single token
  });

  it('encodes long runs as tiktoken does', () => {
    let seed = 11;
    const next = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const letters = Array.from(
      { length: 30_000 },
      () => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ'[Math.floor(next() * 36)],
    ).join('');
    const wasm = createEngine('tiktoken-wasm', encoding);
    const flowlm = createEngine('flowlm', encoding);
    try {
      for (const text of [
        letters,
        'a'.repeat(30_000),
        `x${' '.repeat(5_000)}y`,
        'ab'.repeat(10_000),
        'é'.repeat(5_000),
      ]) {
        const want = new IdBuffer();
        wasm.encode(text, want);
        const got = new IdBuffer();
        flowlm.encode(text, got);
        expect(Array.from(got.view())).toEqual(Array.from(want.view()));
      }
    } finally {
      wasm.dispose();
    }
  });
});
