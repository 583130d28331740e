// Tokenizer training as a sink over a Doc stream: every batch's text is pre-tokenized and its pieces
// counted (bounded memory: train/count-pieces.ts), and when the stream completes the tokenizer is
// trained and written (tokenizer.json, and for bpe tiktoken ranks), each file atomically. Cancelled
// or failed: nothing is written and spill files are removed. The run's figures are counters in the
// operator's stats (bytes, texts, distinct pieces, spills, vocab, merges, count and train ms).
import { Utf8, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { defineSink } from '../../src/core/operator.ts';
import { schemaOf } from '../../src/schema/index.ts';
import { TokenizerTrainer, TrainConfig, writeTrained } from './train/trainer.ts';

const Config = TrainConfig.extend({
  out: z.string().min(1).describe('the tokenizer.json to write (Hugging Face tokenizers format)'),
  tiktoken: z
    .string()
    .min(1)
    .optional()
    .describe('bpe: also write tiktoken ranks (base64 token, space, rank per line)'),
});

type In = { text: Utf8 };

export const trainTokenizer = defineSink({
  id: 'tokenize/train-tokenizer',
  description: 'train a byte-level BPE, WordPiece or Unigram tokenizer on the documents; write tokenizer.json',
  module: import.meta.url,
  config: Config,
  input: () => schemaOf<In>({ text: { type: new Utf8() } }),
  make: (cfg, ctx) => {
    const { out, tiktoken, ...train } = cfg;
    if (tiktoken && train.type !== 'bpe')
      throw new Error(`tiktoken ranks exist for type bpe only (this is ${train.type}): drop the tiktoken option`);
    const trainer = new TokenizerTrainer(train);
    return {
      write: (batch: RecordBatch<In>) => {
        const col = batch.getChild('text');
        if (!col) throw new Error(`column "text" missing (batch has ${batch.schema.names.join(', ')})`);
        for (let r = 0; r < batch.numRows; r++) {
          const text = col.get(r);
          if (text) trainer.addText(text);
        }
      },
      close: async (outcome) => {
        if (outcome === 'cancelled') {
          trainer.dispose();
          return [];
        }
        const t = await trainer.finish();
        const s = t.stats;
        for (const [k, v] of Object.entries({ ...s, vocab: t.vocabSize, merges: t.merges }))
          ctx.stats.count(k, Math.round(v));
        return writeTrained(t, out, tiktoken);
      },
      abort: () => trainer.dispose(),
    };
  },
});
