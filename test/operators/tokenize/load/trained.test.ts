// tokenizer.json files written by flowlm's own trainers (operators/tokenize/train: byte-level BPE,
// WordPiece, Unigram, trained here on a few Moby-Dick chapters) load and give Hugging Face's ids (the
// JS port as reference); byte-level BPE runs on the flowlm engine, and the tiktoken ranks written
// beside it give the same ids. Lines holding a special-token string are left out: they are text here
// and special tokens to the reference (tokenize.ts's policy).
import { describe, expect, it } from 'vitest';
import { hfTokenizer } from '../../../../operators/tokenize/hf/hf-tokenizer.ts';
import { tiktokenFile } from '../../../../operators/tokenize/load/tiktoken-file.ts';
import { TokenizerTrainer, tiktokenRanks } from '../../../../operators/tokenize/train/trainer.ts';
import { mobyParagraphs } from '../../../fixtures/moby.ts';
import { differing, ids, realLines, reference } from './references.ts';

const lines = realLines(8_000).filter((l) => !/<\|[a-z_]+\|>|\[(CLS|SEP|UNK|PAD|MASK)\]|<\/?s>|<unk>/.test(l));
const corpus = [1, 2, 3, 4, 5].flatMap((c) => mobyParagraphs(c));

async function train(type: 'bpe' | 'wordpiece' | 'unigram') {
  const t = new TokenizerTrainer({ type, vocabSize: 600 });
  for (const p of corpus) t.addText(p);
  return t.finish();
}

describe("tokenizer.json from flowlm's trainers", () => {
  it('byte-level BPE: on the flowlm engine, the reference ids, and the tiktoken ranks agree', async () => {
    const trained = await train('bpe');
    const t = hfTokenizer(trained.json, 'bpe');
    expect(t.kind).toBe('tokenizer.json BPE byte-level (flowlm engine)');
    expect(differing(lines, (l) => ids(t, l), reference(trained.json))).toEqual([]);
    const ranks = tiktokenFile(tiktokenRanks(trained.bpe!), 'trained.tiktoken', {});
    expect(
      differing(
        lines,
        (l) => ids(ranks, l),
        (l) => ids(t, l),
      ),
    ).toEqual([]);
  });

  for (const type of ['wordpiece', 'unigram'] as const)
    it(`${type}: the reference ids`, async () => {
      const trained = await train(type);
      const t = hfTokenizer(trained.json, type);
      expect(differing(lines, (l) => ids(t, l), reference(trained.json))).toEqual([]);
    });
});
