// Files the trainer writes, read back by the tokenize operator's loader (loadTokenizer, what
// `flowlm prep --tokenizer FILE` uses): each type's tokenizer.json, and BPE's tiktoken ranks, encode
// held-out text as Hugging Face's tokenizers.js encodes the same tokenizer.json.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, describe, expect, it } from 'vitest';
import { IdBuffer } from '../../../../operators/tokenize/engine/id-buffer.ts';
import { loadTokenizer } from '../../../../operators/tokenize/load/load-tokenizer.ts';
import { TokenizerTrainer, writeTrained, type TrainConfigIn } from '../../../../operators/tokenize/train/trainer.ts';
import { proseSample } from '../samples.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-load-trained-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const HELD_OUT = fileURLToPath(new URL('../../../fixtures/tokenizers/held-out.txt', import.meta.url));
const lines = readFileSync(HELD_OUT, 'utf8').split('\n').filter(Boolean);

async function trained(cfg: TrainConfigIn, tiktoken = false): Promise<string[]> {
  const t = new TokenizerTrainer(cfg);
  for (const d of proseSample(60_000, 8)) t.addText(d);
  const out = join(tmp, `${cfg.type}.json`);
  return writeTrained(await t.finish(), out, tiktoken ? join(tmp, `${cfg.type}.tiktoken`) : undefined);
}

const ids = (file: string, text: string) => {
  const out = new IdBuffer();
  loadTokenizer(file).encode(text, out);
  return Array.from(out.view());
};

describe('trained tokenizers loaded by loadTokenizer', () => {
  it.each([
    ['bpe', 800],
    ['wordpiece', 800],
    ['unigram', 800],
  ] as const)('%s: tokenizer.json encodes held-out lines as tokenizers.js does', async (type, vocabSize) => {
    const files = await trained({ type, vocabSize }, type === 'bpe');
    const hf = new Tokenizer(JSON.parse(readFileSync(files[0]!, 'utf8')), {});
    for (const line of lines) {
      const want = hf.encode(line).ids;
      expect(ids(files[0]!, line), line).toEqual(want);
      if (files[1]) expect(ids(files[1], line), line).toEqual(want);
    }
  });
});
