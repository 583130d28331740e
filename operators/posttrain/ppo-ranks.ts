// A PPO spec file run as one rank of a data-parallel run, in the shape launchers execute (a
// TrainPipeline): `flowlm train|run <ppo spec> --devices cpu:N` starts N rank threads (GPU: processes,
// or torchrun-style ranks), each of which loads the spec's `train` export and runs this. The spec is
// resolved with the command's --set values, placed by the scheduler's physical plan (the PPO chain on
// every rank, checkpoint and metrics on rank 0) and run by the ordinary executor with the rank's
// process group; the summary is the PPO run's, in the trainer's result shape (steps = iterations,
// losses = each iteration's mean minibatch loss).
import * as tf from '@tensorflow/tfjs';
import { FlowError } from '../../src/core/errors.ts';
import { PpoRun } from '../../src/nn/ppo/ppo-resource.ts';
import { ppoConfigHash } from '../../src/nn/ppo/ppo-config.ts';
import { singleRank } from '../../src/nn/train/dist.ts';
import { anyRank } from '../../src/nn/train/replica-reduce.ts';
import type { TrainPipeline, TrainPipelineResult } from '../../src/nn/train/trainer.ts';
import { runPipeline } from '../../src/runtime/run.ts';
import { physicalPlan } from '../../src/scheduler/physical-plan.ts';
import { resolveSpecFile } from '../../src/scheduler/plan.ts';

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

/** The error to rethrow: one that blames a rank (a collective broken by a peer) wins over its wrapper. */
function rootOf(err: unknown): unknown {
  for (let e = err, i = 0; e && i < 8; e = (e as { cause?: unknown }).cause, i++)
    if (typeof (e as { failedRank?: unknown }).failedRank === 'number') return e;
  return err;
}

/** `file`: the spec module itself (its default export is the PPO graph). */
export function ppoRanks(file: string): TrainPipeline {
  return async (o) => {
    const dist = o.dist ?? singleRank();
    const lead = dist.rank === 0;
    const resolved = await resolveSpecFile(file, { sets: o.sets });
    const devices = Array.from({ length: dist.worldSize }, (_, i) => ({
      kind: 'cpu' as const,
      index: i,
      label: `cpu:${i}`,
    }));
    const plan = physicalPlan(file, resolved, { kind: 'cpu', devices });
    const log = lead ? o.hooks.log : undefined;
    const t0 = performance.now();
    let summary: Summary | undefined;
    const result = await runPipeline(resolved, {
      plan,
      source: file,
      scope: {
        rank: dist.rank,
        worldSize: dist.worldSize,
        group: dist.collective,
        resume: o.resume,
        hooks: { stop: o.hooks.signal, onStep: o.hooks.onStep as ((p: unknown) => void) | undefined },
        log,
      },
      log: log ? (node, m) => log(`[${node}] ${m}`) : undefined,
      barrier: dist.worldSize > 1 ? async () => void (await anyRank(dist.collective, false)) : undefined,
      // before the resources are disposed: the summary hashes the final parameters
      onResources: (built) => {
        const run = [...built.values()].find((v): v is PpoRun => v instanceof PpoRun);
        summary = run ? summaryOf(run) : undefined;
      },
    });
    if (!result.ok) {
      const err =
        rootOf(result.thrown) ?? new FlowError(result.error?.operator ?? 'run', result.error?.message ?? 'failed');
      // the other ranks would wait for this one in their next collective
      if (dist.worldSize > 1) dist.collective.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    if (!summary)
      throw new Error(`${file}: the graph ran no PPO iteration (no posttrain/ppo resource was opened by ppo/prompts)`);
    const durationMs = performance.now() - t0;
    return { ...summary, durationMs, tokensPerS: summary.tokens / Math.max(durationMs / 1000, 1e-9), plan };
  };
}
