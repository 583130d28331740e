// The Unigram trainer against Debian's spm_train (0.1.97) on the same lines of Moby-Dick: the
// vocabulary, scores and held-out encodings spm produced (fixtures/spm, made by its script) are
// reproduced. The encoder is also checked on spm's own model, which separates encoder from trainer.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { spmNormalize, spmWords } from '../../../../operators/tokenize/train/spm-normalize.ts';
import { type UnigramPiece, trainUnigram } from '../../../../operators/tokenize/train/unigram.ts';
import { encodeUnigram } from '../../../../operators/tokenize/train/unigram-encode.ts';
import type { UnigramFixture } from '../../../fixtures/spm/make-unigram-fixtures.ts';
import { unigramCorpus } from '../../../fixtures/spm/unigram-corpus.ts';

const fixture = JSON.parse(
  readFileSync(new URL('../../../fixtures/spm/unigram-moby-400k-1000.json', import.meta.url), 'utf8'),
) as UnigramFixture;
const spmModel = {
  pieces: fixture.vocab.map(([piece, score, kind]) => ({ piece, score, kind }) as UnigramPiece),
};

/** Word counts and line-final word counts of lines, as a caller of trainUnigram makes them. */
function countWords(lines: readonly string[]) {
  const words = new Map<string, number>();
  const lineEnds = new Map<string, number>();
  for (const line of lines) {
    const ws = spmWords(spmNormalize(line));
    for (const w of ws) words.set(w, (words.get(w) ?? 0) + 1);
    const last = ws.at(-1);
    if (last) lineEnds.set(last, (lineEnds.get(last) ?? 0) + 1);
  }
  return { words, lineEnds };
}

const agreement = (model: { pieces: readonly UnigramPiece[] }) => {
  const same = fixture.heldOut.filter((line, i) => {
    const ours = encodeUnigram(model, line).map((id) => model.pieces[id]!.piece);
    const theirs = fixture.ids[i]!.map((id) => spmModel.pieces[id]!.piece);
    return ours.join(' ') === theirs.join(' ');
  });
  return same.length / fixture.heldOut.length;
};

describe('Unigram training vs spm_train', () => {
  const { train } = unigramCorpus(fixture.corpus);
  const { words, lineEnds } = countWords(train);
  let seeds = 0;
  const model = trainUnigram(words, {
    vocabSize: fixture.vocabSize,
    lineEnds,
    onProgress: (step, n) => {
      if (step === 'seeds') seeds = n;
    },
  });

  it('builds the training lines spm_train was given', () => {
    expect(train.length).toBe(fixture.trainLines);
  });

  it('finds the seed pieces spm finds', () => {
    expect(seeds).toBe(fixture.spmSeeds);
  });

  it('shares >= 95% of pieces with spm (here: all, with the same scores)', () => {
    const theirs = new Map(spmModel.pieces.map((p) => [p.piece, p.score]));
    const shared = model.pieces.filter((p) => theirs.has(p.piece));
    console.log(`unigram vs spm: ${shared.length}/${spmModel.pieces.length} pieces shared`);
    expect(model.pieces.length).toBe(fixture.vocabSize);
    expect(shared.length / spmModel.pieces.length).toBeGreaterThanOrEqual(0.95);
    expect(model.pieces.map((p) => [p.piece, p.score, p.kind])).toEqual(fixture.vocab);
  });

  it('encodes >= 95% of held-out lines as spm_encode does with its own model (here: all)', () => {
    const share = agreement(model);
    console.log(`unigram vs spm: ${(share * 100).toFixed(1)}% of ${fixture.heldOut.length} held-out lines identical`);
    expect(share).toBeGreaterThanOrEqual(0.95);
    expect(share).toBe(1);
  });

  it('encodes every held-out line with spm model as spm_encode does (the encoder alone)', () => {
    expect(agreement(spmModel)).toBe(1);
  });

  it('spmThreads: reproduces spm_train --num_threads=1 too (its single-precision sums group otherwise)', () => {
    const one = trainUnigram(words, { vocabSize: fixture.vocabSize, lineEnds, spmThreads: 1 });
    expect(fixture.vocabOneThread).not.toEqual(fixture.vocab);
    expect(one.pieces.map((p) => [p.piece, p.score, p.kind])).toEqual(fixture.vocabOneThread);
  });

  it('normalizes as spm does (NFKC, whitespace, controls, ▁)', () => {
    const lines = fixture.heldOut.slice(-fixture.normalized.length);
    expect(lines.map(spmNormalize)).toEqual(fixture.normalized);
  });
});
