// The whole path in one `flowlm run`: documents (the embedded corpus, or a crawl of a site) -> clean ->
// dedup -> tokenize -> pack -> train -> evaluate -> checkpoint, as one graph whose training chain the
// scheduler replicates on --devices. Two data modes for training:
//   stream (default)  packed rows flow straight into training through a bounded shuffle buffer; when
//                     training is slower than the tokenizer, backpressure holds the tokenizer and readers
//   shards            rows go to verified shards first (write-shards), and training reads them when the
//                     shards are complete (exact resume with --resume, as flowlm train does)
//   flowlm run pipelines/end-to-end.ts                                     # embedded corpus, stream mode
//   flowlm run pipelines/end-to-end.ts --set params.data=shards [--resume]
//   flowlm run pipelines/end-to-end.ts --set params.input=crawl --set 'crawl.seeds=["http://127.0.0.1:8080/index.html"]'
// Parameters (--set params.key=value) choose which nodes the graph has; every node and resource config
// can be changed with --set name.key=value (trainer.steps=200, model.nLayer=4, pack.seqLen=128, ...).
import { exactDedup } from '../operators/dedup/exact.ts';
import { extractHtml } from '../operators/clean/extract-html.ts';
import { normalize } from '../operators/clean/normalize.ts';
import { quality } from '../operators/clean/quality.ts';
import { crawl } from '../operators/ingest/crawl.ts';
import { mobyDickChapters, sotuTexts } from '../operators/ingest/embedded-corpus.ts';
import { readText } from '../operators/ingest/read-text.ts';
import { packSequences } from '../operators/pack/pack-sequences.ts';
import { writeShards } from '../operators/shard/write-shards.ts';
import { tokenize } from '../operators/tokenize/tokenize.ts';
import { allReduce } from '../operators/train/all-reduce.ts';
import { checkpoint } from '../operators/train/checkpoint.ts';
import { evaluateStep } from '../operators/train/evaluate.ts';
import { forwardBackward } from '../operators/train/forward-backward.ts';
import { writeMetrics } from '../operators/train/metrics-sink.ts';
import { optimizerStep } from '../operators/train/optimizer-step.ts';
import { shardBatches } from '../operators/train/shard-batches.ts';
import { streamBatches } from '../operators/train/stream-batches.ts';
import { pipeline, type PipelineSpecInput } from '../src/graph/spec.ts';

export interface EndToEndParams {
  /** how packed rows reach training (default stream) */
  data?: 'stream' | 'shards';
  /** where documents come from (default corpus: State of the Union addresses and Moby-Dick) */
  input?: 'corpus' | 'crawl';
  /** where the run writes: <out>/shards and <out>/run (default out/end-to-end) */
  out?: string;
}

const SEQ_LEN = 64;

export default function endToEnd(p: EndToEndParams = {}): PipelineSpecInput {
  const mode = p.data ?? 'stream';
  const out = p.out ?? 'out/end-to-end';
  if (mode !== 'stream' && mode !== 'shards')
    throw new Error(`params.data: "${String(mode)}" is not a data mode; use stream or shards`);
  if (p.input !== undefined && p.input !== 'corpus' && p.input !== 'crawl')
    throw new Error(`params.input: "${String(p.input)}" is not an input; use corpus or crawl`);

  // -- documents
  const docs =
    p.input === 'crawl'
      ? [
          {
            id: 'crawl',
            op: crawl,
            config: {
              seeds: ['http://127.0.0.1:8080/index.html'],
              allowAddresses: ['127.0.0.1'],
              maxPages: 100,
              maxDepth: 4,
              concurrency: 4,
              politeness: false,
            },
          },
          { id: 'extract', op: extractHtml, workers: 1 },
        ]
      : [
          {
            id: 'read',
            op: readText,
            config: {
              paths: [sotuTexts(), mobyDickChapters()],
              unit: 'file',
              source: 'sotu+moby-dick',
              batchBytes: 256 << 10,
            },
          },
        ];

  // -- clean, dedup, tokens, rows: documents end with <|endoftext|>; rows record where documents start
  const prep = [
    { id: 'normalize', op: normalize, config: { form: 'NFC' } },
    { id: 'quality', op: quality },
    { id: 'dedup', op: exactDedup },
    { id: 'tokenize', op: tokenize, workers: 1, config: { encoding: 'gpt2', eos: true } },
    { id: 'pack', op: packSequences, config: { seqLen: SEQ_LEN, rowsPerBatch: 256, docStarts: true } },
  ];

  // -- training: this rank's rows of each step, then the chain (placed once per device)
  const chain = [
    { id: 'forward-backward', op: forwardBackward, config: { trainer: 'trainer' } },
    { id: 'all-reduce', op: allReduce, config: { trainer: 'trainer' } },
    { id: 'optimizer-step', op: optimizerStep, config: { trainer: 'trainer' } },
    { id: 'evaluate', op: evaluateStep, config: { trainer: 'trainer' } },
    { id: 'checkpoint', op: checkpoint, config: { trainer: 'trainer' } },
    { id: 'metrics', op: writeMetrics, config: { trainer: 'trainer' } },
  ];
  const ids = (steps: Array<{ id: string }>) => steps.map((s) => s.id);
  const edgesOf = (list: string[]) => list.slice(1).map((to, i) => [list[i]!, to] as [string, string]);
  const nodes: Record<string, unknown> = {};
  for (const { id, ...n } of [...docs, ...prep, ...chain]) nodes[id] = n;
  let edges: Array<[string, string]>;
  if (mode === 'stream') {
    nodes.data = { op: streamBatches, config: { trainer: 'trainer', holdoutRows: 64, shuffleBuffer: 512 } };
    edges = edgesOf([...ids(docs), ...ids(prep), 'data', ...ids(chain)]);
  } else {
    nodes.shards = {
      op: writeShards,
      config: { dir: `${out}/shards`, seqLen: SEQ_LEN, encoding: 'gpt2', meta: { pipeline: 'end-to-end' } },
    };
    nodes.data = {
      op: shardBatches,
      after: ['shards'],
      config: { trainer: 'trainer', dir: `${out}/shards`, holdoutRows: 64 },
    };
    edges = [...edgesOf([...ids(docs), ...ids(prep), 'shards']), ...edgesOf(['data', ...ids(chain)])];
  }

  return pipeline({
    name: `end-to-end (${mode})`,
    budget: { maxInFlight: 8 },
    resources: {
      model: {
        kind: 'nn/gpt',
        config: { vocabSize: 50257, contextLength: SEQ_LEN, nLayer: 2, nHead: 2, dModel: 64, docMasking: true },
      },
      optimizer: {
        kind: 'nn/adamw',
        config: { lr: { max: 3e-3, min: 3e-4, warmupSteps: 10 }, weightDecay: 0.1, clipNorm: 1 },
      },
      trainer: {
        kind: 'nn/trainer',
        config: {
          model: 'model',
          optimizer: 'optimizer',
          runDir: `${out}/run`,
          encoding: 'gpt2',
          batchSize: 8,
          steps: 100,
          evalEvery: 50,
          evalBatches: 8,
          checkpointEvery: 50,
          keepLast: 2,
          seed: 1337,
        },
      },
    },
    nodes: nodes as PipelineSpecInput['nodes'],
    edges,
  });
}
