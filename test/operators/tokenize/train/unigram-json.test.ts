// A Unigram model trained through the tokenizer trainer (SentencePiece's algorithm on spm's words of
// each line) written as tokenizer.json: Hugging Face's tokenizers.js, loading the file, gives the ids
// of the trainer's own Viterbi encoder (spm_encode's ids, see unigram tests) on held-out lines.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { TokenizerTrainer } from '../../../../operators/tokenize/train/trainer.ts';
import { encodeUnigram } from '../../../../operators/tokenize/train/unigram-encode.ts';
import type { UnigramPiece } from '../../../../operators/tokenize/train/write-hf.ts';
import { proseSample } from '../samples.ts';

const HELD_OUT = fileURLToPath(new URL('../../../fixtures/tokenizers/held-out.txt', import.meta.url));

describe('a trained Unigram tokenizer.json', () => {
  it('encodes held-out lines in tokenizers.js as the Viterbi encoder does', async () => {
    const t = new TokenizerTrainer({ type: 'unigram', vocabSize: 1000 });
    for (const d of proseSample(60_000, 6)) t.addText(d);
    const trained = await t.finish();
    expect(trained.vocabSize).toBe(1000);
    const json = trained.json as { model: { vocab: Array<[string, number]>; unk_id: number } };
    const pieces: UnigramPiece[] = json.model.vocab.map(([piece, score], id) => ({
      piece,
      score,
      kind: id === json.model.unk_id ? 'unknown' : id < 3 ? 'control' : 'normal',
    }));
    const hf = new Tokenizer(json, {});
    const lines = readFileSync(HELD_OUT, 'utf8').split('\n').filter(Boolean);
    let same = 0;
    const diffs: string[] = [];
    for (const line of lines) {
      const want = encodeUnigram({ pieces }, line);
      const got = hf.encode(line).ids;
      if (JSON.stringify(got) === JSON.stringify(want)) same++;
      else diffs.push(line);
    }
    expect(diffs.slice(0, 5)).toEqual([]);
    expect(same).toBe(lines.length);
  });
});
