// Byte-level BPE training against a simple reference trainer that recounts every pair before each
// merge: the same merges on tie-free corpora (random words with random large counts) and on real text
// (State of the Union and Moby-Dick pieces, ties broken by the stated rule).
import { describe, expect, it } from 'vitest';
import { trainBpe, type BpeModel } from '../../../../operators/tokenize/train/bpe.ts';
import { BYTE_ORDER } from '../../../../operators/tokenize/train/byte-alphabet.ts';
import { Rng } from '../../../../src/runtime/rng.ts';
import { realWords, referenceBpe } from './reference.ts';

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const mergesOf = (m: BpeModel) => m.merges.map(([a, b]) => [latin1(m.tokens[a]!), latin1(m.tokens[b]!)]);

describe('trainBpe', () => {
  it('makes the merges of the reference trainer on tie-free corpora', () => {
    for (const seed of [1, 2, 3]) {
      const rng = new Rng(seed);
      const alphabet = 'abcdefgh é€';
      const words: Array<[string, number]> = [];
      for (let w = 0; w < 300; w++) {
        let s = '';
        const len = 2 + Math.floor(rng.next() * 8);
        for (let k = 0; k < len; k++) s += alphabet[Math.floor(rng.next() * alphabet.length)];
        // counts spread over 2^30: equal pair counts are improbable (and the reference would agree anyway)
        words.push([s, 1 + Math.floor(rng.next() * 2 ** 30)]);
      }
      const vocabSize = 256 + 120;
      const got = trainBpe(words, { vocabSize, specials: [] });
      expect(got.merges.length).toBeGreaterThan(100);
      expect(mergesOf(got)).toEqual(referenceBpe(words, vocabSize));
    }
  });

  it('makes the merges of the reference trainer on real text, ties broken by the stated rule', () => {
    const words = realWords(40_000, 3);
    const vocabSize = 256 + 150;
    const got = trainBpe(words, { vocabSize, specials: [] });
    expect(got.merges).toHaveLength(150);
    expect(mergesOf(got)).toEqual(referenceBpe(words, vocabSize));
    // the first merges of English text: a space with a letter, 'th', 'he', ...
    expect(mergesOf(got).slice(0, 3)).toContainEqual([' ', 't']);
  });

  it('is deterministic whatever the order the counts come in', () => {
    const words = realWords(30_000, 5);
    const a = trainBpe(words, { vocabSize: 400 });
    const b = trainBpe([...words].reverse(), { vocabSize: 400 });
    expect(mergesOf(b)).toEqual(mergesOf(a));
  });

  it('starts from the 256 bytes in GPT-2 order and appends special tokens', () => {
    const m = trainBpe(realWords(20_000), { vocabSize: 300, specials: ['<|endoftext|>', '<|pad|>'] });
    expect(m.tokens.slice(0, 256).map((t) => t[0])).toEqual(BYTE_ORDER);
    expect(m.tokens.length + m.specials.length).toBe(300);
    expect(m.specials).toEqual(['<|endoftext|>', '<|pad|>']);
    expect(() => trainBpe([], { vocabSize: 256, specials: ['<|endoftext|>'] })).toThrow(/below the 256 byte tokens/);
  });

  it('merges no pair seen fewer than minFrequency times', () => {
    const words: Array<[string, number]> = [
      ['abab', 3],
      ['xy', 2],
      ['qr', 1],
    ];
    const pairs = (min: number) => mergesOf(trainBpe(words, { vocabSize: 400, minFrequency: min }));
    expect(pairs(1)).toContainEqual(['q', 'r']);
    expect(pairs(2)).not.toContainEqual(['q', 'r']);
    expect(pairs(2)).toContainEqual(['x', 'y']);
    expect(pairs(3)).not.toContainEqual(['x', 'y']);
    expect(pairs(7)).toEqual([]);
  });
});
