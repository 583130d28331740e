// Each option of the Unigram trainer changes what it does, on real text (the first 60,000 characters
// of Moby-Dick), and the normalization helpers split as spm does.
import { describe, expect, it } from 'vitest';
import { spmNormalize, spmWords } from '../../../../operators/tokenize/train/spm-normalize.ts';
import { type UnigramOptions, trainUnigram } from '../../../../operators/tokenize/train/unigram.ts';
import { encodeUnigram } from '../../../../operators/tokenize/train/unigram-encode.ts';
import { unigramCorpus } from '../../../fixtures/spm/unigram-corpus.ts';

const { train, heldOut } = unigramCorpus({ source: 'moby', maxChars: 60_000 });
const words = new Map<string, number>();
for (const line of train) for (const w of spmWords(spmNormalize(line))) words.set(w, (words.get(w) ?? 0) + 1);

function run(opts: Omit<UnigramOptions, 'vocabSize'> & { vocabSize?: number }) {
  const steps: Array<[string, number]> = [];
  const model = trainUnigram(words, { vocabSize: 300, ...opts, onProgress: (s, n) => steps.push([s, n]) });
  return { model, steps, pieces: model.pieces.map((p) => p.piece) };
}
const base = run({});
const chars = (pieces: string[]) => pieces.filter((p) => [...p].length === 1);

describe('spmNormalize / spmWords', () => {
  it('splits a normalized line into ▁-initial words', () => {
    expect(spmNormalize('  Call me  Ishmael. ')).toBe('▁Call▁me▁Ishmael.');
    expect(spmWords(spmNormalize('  Call me  Ishmael. '))).toEqual(['▁Call', '▁me', '▁Ishmael.']);
    expect(spmWords(spmNormalize(' \t '))).toEqual([]);
  });
});

describe('trainUnigram options', () => {
  it('vocabSize: pieces in all, <unk> and the control pieces first', () => {
    expect(base.model.pieces).toHaveLength(300);
    expect(run({ vocabSize: 250 }).model.pieces).toHaveLength(250);
    expect(base.model.pieces.slice(0, 3).map((p) => [p.piece, p.kind])).toEqual([
      ['<unk>', 'unknown'],
      ['<s>', 'control'],
      ['</s>', 'control'],
    ]);
  });

  it('unk and control: the special pieces named', () => {
    const { pieces } = run({ unk: '[UNK]', control: ['[CLS]'] });
    expect(pieces.slice(0, 2)).toEqual(['[UNK]', '[CLS]']);
    expect(pieces).toHaveLength(300);
  });

  it('characterCoverage: a lower coverage leaves rare characters out of the alphabet', () => {
    const low = chars(run({ characterCoverage: 0.98 }).pieces);
    expect(low.length).toBeLessThan(chars(base.pieces).length);
    expect(chars(base.pieces)).toEqual(expect.arrayContaining(low));
  });

  it('maxPieceLength: no longer piece', () => {
    const longest = (ps: string[]) => Math.max(...ps.slice(3).map((p) => [...p].length));
    expect(longest(base.pieces)).toBeGreaterThan(4);
    expect(longest(run({ maxPieceLength: 4 }).pieces)).toBe(4);
  });

  it('seedSentencepieceSize: EM starts from that many seed pieces', () => {
    expect(base.steps.find(([s]) => s === 'seeds')![1]).toBeGreaterThan(3000);
    expect(run({ seedSentencepieceSize: 3000 }).steps.find(([s]) => s === 'seeds')![1]).toBe(3000);
  });

  it('shrinkingFactor: each pruning round keeps that share (above the target size)', () => {
    const { steps } = run({ shrinkingFactor: 0.5 });
    const before = steps.findIndex(([s]) => s === 'prune') - 1;
    expect(steps[before + 1]![1]).toBe(Math.max(330, Math.trunc(0.5 * steps[before]![1])));
    const baseBefore = base.steps.findIndex(([s]) => s === 'prune') - 1;
    expect(base.steps[baseBefore + 1]![1]).toBe(Math.max(330, Math.trunc(0.75 * base.steps[baseBefore]![1])));
  });

  it('numSubIterations: EM steps per pruning round', () => {
    const rounds = (steps: Array<[string, number]>) => steps.filter(([s]) => s.startsWith('em')).length;
    const prunes = (steps: Array<[string, number]>) => steps.filter(([s]) => s === 'prune').length;
    expect(rounds(base.steps)).toBe(2 * (prunes(base.steps) + 1));
    const three = run({ numSubIterations: 3 }).steps;
    expect(rounds(three)).toBe(3 * (prunes(three) + 1));
  });

  it('lineEnds: words ending a line add seed pieces that end words', () => {
    const ends = new Map<string, number>();
    for (const line of train) {
      const last = spmWords(spmNormalize(line)).at(-1);
      if (last) ends.set(last, (ends.get(last) ?? 0) + 1);
    }
    const seeds = (r: ReturnType<typeof run>) => r.steps.find(([s]) => s === 'seeds')![1];
    expect(seeds(run({ lineEnds: ends }))).toBeGreaterThan(seeds(base));
  });

  it('hardVocabLimit: too large a vocabulary fails, or gives what the text has', () => {
    const tiny = new Map([
      ['▁whale', 3],
      ['▁whaling', 2],
    ]);
    expect(() => trainUnigram(tiny, { vocabSize: 100 })).toThrow(/vocabulary size too high \(100\).*<= \d+/);
    const soft = trainUnigram(tiny, { vocabSize: 100, hardVocabLimit: false });
    expect(soft.pieces.length).toBeLessThan(100);
    expect(soft.pieces.map((p) => p.piece)).toContain('▁whal');
  });

  it('rejects options out of range, naming them', () => {
    expect(() => run({ shrinkingFactor: 1.5 })).toThrow(/shrinkingFactor/);
    expect(() => run({ vocabSize: 40 })).toThrow(/required characters/);
  });

  it('encodes held-out text into pieces that spell it (lines without unknown characters)', () => {
    let spelled = 0;
    for (const line of heldOut) {
      const ids = encodeUnigram(base.model, line);
      if (ids.includes(0)) continue;
      expect(ids.map((id) => base.model.pieces[id]!.piece).join('')).toBe(spmNormalize(line));
      spelled++;
    }
    expect(spelled).toBeGreaterThan(heldOut.length / 2);
  });
});
