// Train a small GPT on the shards `flowlm prep` wrote, in the spirit of nanoGPT's train.py, as a
// declarative graph: the resources first (model, optimizer, the trainer that holds one replica of
// both per device), then the training chain, one optimizer step at a time. Every value can be changed
// with --set name.key=value (a resource or a node: --set trainer.steps=500 --set model.nLayer=2).
// `flowlm plan` shows how the graph is placed on devices: the chain replicated once per device with
// the data split by rank, gradients averaged by all-reduce, metrics on rank 0.
//   flowlm prep --out out/prep --encoding gpt2 --seq-len 128
//   flowlm train pipelines/train-tiny.ts [--resume] [--devices cpu:2]     (or: flowlm run ...)
// pipelines/train-tiny.json is the same graph by operator ids, as data.
import { pipeline } from '../src/graph/spec.ts';
import { allReduce } from '../operators/train/all-reduce.ts';
import { checkpoint } from '../operators/train/checkpoint.ts';
import { evaluateStep } from '../operators/train/evaluate.ts';
import { forwardBackward } from '../operators/train/forward-backward.ts';
import { writeMetrics } from '../operators/train/metrics-sink.ts';
import { optimizerStep } from '../operators/train/optimizer-step.ts';
import { shardBatches } from '../operators/train/shard-batches.ts';

export default pipeline({
  name: 'train-tiny',
  resources: {
    // vocab 50257 (gpt2), context 128, 4 layers, 4 heads, d_model 128
    model: { kind: 'nn/gpt', config: { preset: 'tiny', dropout: 0 } },
    optimizer: {
      kind: 'nn/adamw',
      config: { lr: { max: 1e-3, min: 1e-4, warmupSteps: 20 }, weightDecay: 0.1, clipNorm: 1.0, zero: false }, // zero: ZeRO-1, moments sharded across ranks
    },
    trainer: {
      kind: 'nn/trainer',
      config: {
        model: 'model',
        optimizer: 'optimizer',
        runDir: 'out/train-tiny',
        encoding: 'gpt2',
        batchSize: 8, // rows per micro-batch (per rank)
        gradAccum: 1, // micro-batches per step and rank
        steps: 200,
        evalEvery: 50,
        evalBatches: 8,
        checkpointEvery: 50,
        keepLast: 2,
        seed: 1337,
      },
    },
  },
  steps: [
    // this rank's rows of each step, from verified shards, with 256 rows held out for validation
    { id: 'data', op: shardBatches, config: { trainer: 'trainer', dir: 'out/prep', holdoutRows: 256, shuffle: true } },
    { id: 'forward-backward', op: forwardBackward, config: { trainer: 'trainer' } }, // loss and gradients of this rank's micro-batches
    { id: 'all-reduce', op: allReduce, config: { trainer: 'trainer' } }, // averaged over the ranks
    { id: 'optimizer-step', op: optimizerStep, config: { trainer: 'trainer' } }, // clip, AdamW; a stop request ends the run after this step
    { id: 'evaluate', op: evaluateStep, config: { trainer: 'trainer' } }, // every evalEvery steps and at the end (rank 0)
    { id: 'checkpoint', op: checkpoint, config: { trainer: 'trainer' } }, // every checkpointEvery steps and at the end (rank 0 writes)
    { id: 'metrics', op: writeMetrics, config: { trainer: 'trainer' } }, // metrics.jsonl (live) and metrics.parquet in the run directory
  ],
});
