// A PPO spec file run as one rank of a data-parallel run, in the shape launchers execute (a
// TrainPipeline): `flowlm train|run <ppo spec> --devices cpu:N` starts N rank threads (GPU: processes,
// or torchrun-style ranks), each of which loads the spec's `train` export and runs this. The spec is
// resolved with the command's --set values, placed by the scheduler's physical plan (the PPO chain on
// every rank, checkpoint and metrics on rank 0) and run by the ordinary executor with the rank's
// process group; the summary is the PPO run's, in the trainer's result shape (steps = iterations,
// losses = each iteration's mean minibatch loss).
import * as tf from '@tensorflow/tfjs';
import { PpoRun } from '../../src/nn/ppo/ppo-resource.ts';
import { ppoConfigHash } from '../../src/nn/ppo/ppo-config.ts';
import type { TrainPipeline, TrainPipelineResult } from '../../src/nn/train/trainer.ts';
import { graphTrainPipeline, type RankResult } from '../../src/scheduler/graph-run.ts';

type Summary = Omit<TrainPipelineResult, 'durationMs' | 'tokensPerS'>;

function summaryOf(run: PpoRun): Summary | undefined {
  const s = run.opened;
  if (!s) return undefined;
  const count = (specs: readonly { shape: readonly number[] }[]) =>
    specs.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  return {
    ok: true,
    step: s.iteration,
    startStep: s.startIteration,
    losses: [...s.tally.losses],
    tokens: s.tally.tokens,
    params: count(s.policy.specs) + count(s.valueHead.specs),
    trainableParams: count(s.trainable),
    backend: tf.getBackend(),
    checkpoint: s.tally.checkpoint,
    configHash: ppoConfigHash(s.cfg),
    stopped: s.iteration < s.cfg.iterations,
    paramsSha256: s.paramsSha256(),
    runDir: s.cfg.runDir,
  };
}

/** `file`: the spec module itself (its default export is the PPO graph), run by the scheduler's graph
 * runner with the PPO run's summary as the rank's result. */
export function ppoRanks(file: string): TrainPipeline {
  return (o) => {
    const t0 = performance.now();
    const result: RankResult = {
      pick: (built) => {
        const run = [...built.values()].find((v): v is PpoRun => v instanceof PpoRun);
        const summary = run ? summaryOf(run) : undefined;
        if (!summary) return undefined;
        const durationMs = performance.now() - t0;
        return { ...summary, durationMs, tokensPerS: summary.tokens / Math.max(durationMs / 1000, 1e-9) };
      },
      missing: 'the graph ran no PPO iteration (no posttrain/ppo resource was opened by ppo/prompts)',
    };
    return graphTrainPipeline(file, undefined, result)(o);
  };
}
