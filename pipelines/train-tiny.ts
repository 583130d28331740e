// Train a small GPT on the shards `flowlm prep` wrote, in the spirit of nanoGPT's train.py: the
// config first, then data, metrics, and the model/optimizer/loop (src/nn/trainer.ts).
//   flowlm prep --out out/prep --encoding gpt2 --seq-len 128
//   flowlm train pipelines/train-tiny.ts [--resume] [--set steps=500 --set model.nLayer=2 ...]
import { resolve } from 'node:path';
import { findLatest } from '../src/nn/checkpoint/index.ts';
import { applyOverrides, trainConfig, type TrainConfigInput } from '../src/nn/train-config.ts';
import { train, type TrainPipelineOptions, type TrainPipelineResult } from '../src/nn/trainer.ts';
import { shardTrainData } from './train-data.ts';
import { metricsWriter } from './train-metrics.ts';

// -- config: every field can be overridden with --set (dotted paths: --set lr.max=3e-4)
export const config: TrainConfigInput = {
  runDir: 'out/train-tiny',
  preset: 'tiny', // vocab 50257 (gpt2), context 128, 4 layers, 4 heads, d_model 128
  model: { dropout: 0 },
  encoding: 'gpt2',
  data: { train: 'out/prep', holdoutRows: 256, shuffle: true },
  batchSize: 8,
  gradAccum: 1,
  steps: 200,
  lr: { max: 1e-3, min: 1e-4, warmupSteps: 20 },
  weightDecay: 0.1,
  clipNorm: 1.0,
  evalEvery: 50,
  evalBatches: 8,
  checkpointEvery: 50,
  keepLast: 2,
  seed: 1337,
};

export default async function run(o: TrainPipelineOptions): Promise<TrainPipelineResult> {
  const cfg = trainConfig(applyOverrides(config, o.sets));
  const runDir = resolve(cfg.runDir);

  // -- data: resumable shard stream for training, held-out rows for validation
  const data = shardTrainData(cfg);
  o.hooks.log?.(`data: ${data.trainRows} training rows, ${data.valRows} validation rows of ${data.seqLen} tokens`);

  // -- metrics: metrics.jsonl (live) and metrics.parquet in the run directory
  const resumeStep = o.resume ? (await findLatest(runDir))?.step : undefined;
  const metrics = metricsWriter(runDir, resumeStep);

  // -- model, optimizer, loop, evaluation and checkpoints
  try {
    const result = await train({ ...cfg, runDir }, data, { ...o.hooks, resume: o.resume, onMetrics: (r) => metrics.write(r) });
    return { ...result, runDir };
  } finally {
    await metrics.close();
  }
}
