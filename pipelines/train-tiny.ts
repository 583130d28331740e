// Train a small GPT on the shards `flowlm prep` wrote, in the spirit of nanoGPT's train.py: the
// config first, then data, model and optimizer, and the training loop as a chain of operators, one
// optimizer step at a time (operators/train/). Data parallel when `flowlm train --devices` runs it once
// per rank (o.dist): each rank reads its share, gradients are averaged, rank 0 evaluates, checkpoints
// and writes the metrics.
//   flowlm prep --out out/prep --encoding gpt2 --seq-len 128
//   flowlm train pipelines/train-tiny.ts [--resume] [--set steps=500 --set model.nLayer=2 ...]
import { resolve } from 'node:path';
import { lastValueFrom, tap } from 'rxjs';
import { allReduce } from '../operators/train/all-reduce.ts';
import { checkpoint, CHECKPOINT_KEY } from '../operators/train/checkpoint.ts';
import { evaluateStep } from '../operators/train/evaluate.ts';
import { forwardBackward } from '../operators/train/forward-backward.ts';
import { microBatches } from '../operators/train/micro-batches.ts';
import { optimizerStep } from '../operators/train/optimizer-step.ts';
import { initBackend } from '../src/nn/backend/backend.ts';
import { findLatest } from '../src/nn/checkpoint/index.ts';
import { singleRank } from '../src/nn/train/dist.ts';
import { TrainReplica } from '../src/nn/train/replica.ts';
import { metaOf, stepMetaOf, stepReportOf } from '../src/nn/train/step-batches.ts';
import { applyOverrides, trainConfig, type TrainConfigInput } from '../src/nn/train/train-config.ts';
import { StepTally } from '../src/nn/train/train-tally.ts';
import type { TrainPipelineOptions, TrainPipelineResult } from '../src/nn/train/trainer.ts';
import { shardTrainData } from '../operators/train/shard-data.ts';
import { metricsWriter } from '../operators/train/metrics-writer.ts';

// -- config: every field can be overridden with --set (dotted paths: --set lr.max=3e-4)
export const config: TrainConfigInput = {
  runDir: 'out/train-tiny',
  preset: 'tiny', // vocab 50257 (gpt2), context 128, 4 layers, 4 heads, d_model 128
  model: { dropout: 0 },
  encoding: 'gpt2',
  data: { train: 'out/prep', holdoutRows: 256, shuffle: true },
  batchSize: 8, // rows per micro-batch (per rank)
  gradAccum: 1, // micro-batches per step and rank
  steps: 200,
  lr: { max: 1e-3, min: 1e-4, warmupSteps: 20 },
  weightDecay: 0.1,
  clipNorm: 1.0,
  evalEvery: 50,
  evalBatches: 8,
  checkpointEvery: 50,
  keepLast: 2,
  seed: 1337,
  zero: false, // ZeRO-1: shard the AdamW moments across ranks
};

export default async function run(o: TrainPipelineOptions): Promise<TrainPipelineResult> {
  const cfg = trainConfig(applyOverrides(config, o.sets));
  const runDir = resolve(cfg.runDir);
  const dist = o.dist ?? singleRank();
  const lead = dist.rank === 0; // rank 0 alone logs, reports and writes metrics
  const log = lead && o.hooks.log ? o.hooks.log : () => undefined;

  // -- data: this rank's share of the resumable shard stream, held-out rows for validation
  const data = shardTrainData(cfg, dist);
  log(`data: ${data.trainRows} training rows, ${data.valRows} validation rows of ${data.seqLen} tokens`);

  // -- model and optimizer: fresh, or exactly as the run directory's latest checkpoint left them
  const backend = await initBackend({ announce: lead ? undefined : false }); // one announcement per run
  const resumeStep = o.resume ? (await findLatest(runDir))?.step : undefined;
  const replica = await TrainReplica.open({ ...cfg, runDir }, { dist, resume: o.resume, log });
  const tally = new StepTally(replica);

  // -- metrics: metrics.jsonl (live) and metrics.parquet in the run directory (rank 0)
  const metrics = lead ? metricsWriter(runDir, resumeStep) : undefined;

  // -- the training loop: one optimizer step at a time through the chain
  const steps = microBatches({ replica, data, seqLen: data.seqLen }).pipe(
    forwardBackward({ replica }), // loss and gradients of this rank's micro-batches
    allReduce({ replica }), // averaged over the ranks
    optimizerStep({ replica, stop: o.hooks.signal }), // clip, AdamW; a stop request ends the run after this step
    tap((m) => { const p = tally.add(stepReportOf(m, 'train-tiny')); if (lead) o.hooks.onStep?.(p); }),
    evaluateStep({ replica, val: data.val }), // every evalEvery steps and at the end (rank 0)
    // the step's metrics go out before its checkpoint: a run killed after a checkpoint has them
    tap((m) => metrics?.writeBatch(m)),
    checkpoint({ replica }), // every checkpointEvery steps and at the end (rank 0 writes)
  );
  try {
    await lastValueFrom(steps.pipe(tap((m) => {
      const meta = stepMetaOf(m, 'train-tiny');
      if (meta.val) tally.val = meta.val;
      tally.stopped ||= meta.stopped === true;
      tally.checkpoint = (metaOf(m, CHECKPOINT_KEY) as string | undefined) ?? tally.checkpoint;
    })), { defaultValue: undefined });
    return { ...tally.result(backend.name), runDir };
  } catch (err) {
    // the other ranks would wait for this one in their next collective
    if (dist.worldSize > 1) dist.collective.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  } finally {
    await metrics?.close();
    replica.dispose();
  }
}
