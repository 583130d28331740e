// A spec with a training chain run as one rank: the spec loaded and validated here (every rank builds
// its own resources: model, optimizer state, data position), then the physical plan the launcher made
// is executed by the ordinary executor with this rank's place in it. It has the shape of a
// TrainPipeline, so the launchers (rank threads, processes, torchrun-style ranks) run it unchanged.
import { FlowError } from '../core/errors.ts';
import { singleRank } from '../nn/train/dist.ts';
import { anyRank } from '../nn/train/replica-reduce.ts';
import { Trainer } from '../nn/train/trainer-handle.ts';
import type { TrainPipeline, TrainPipelineOptions, TrainPipelineResult } from '../nn/train/trainer.ts';
import { runPipeline } from '../runtime/run.ts';
import type { Device } from './devices.ts';
import { physicalPlan } from './physical-plan.ts';
import { resolveSpecFile } from './plan.ts';
import type { PhysicalPlan } from './plan-types.ts';

/** The error to rethrow: one that blames a rank (a collective broken by a peer) wins over its wrapper. */
function rootOf(err: unknown): unknown {
  for (let e = err, i = 0; e && i < 8; e = (e as { cause?: unknown }).cause, i++) {
    if (typeof (e as { failedRank?: unknown }).failedRank === 'number') return e;
  }
  return err;
}

const cpuDevices = (n: number): Device[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'cpu', index: i, label: `cpu:${i}` }));

/** What a rank's run returns, read from its built resources before they are disposed (the trainer's
 * result; a PPO run's summary), and what to say when no resource of that kind ran. */
export interface RankResult {
  pick: (built: ReadonlyMap<string, unknown>) => TrainPipelineResult | undefined;
  missing: string;
}

const trainerResult: RankResult = {
  pick: (built) => [...built.values()].find((v): v is Trainer => v instanceof Trainer)?.result(),
  missing: 'the graph ran no training step (no nn/trainer resource was opened by a data source)',
};

/** `plan`: the launcher's; without it (a torchrun-style rank) the rank makes the same one. `result`: how
 * the rank's result is read (default: the nn/trainer resource's). */
export function graphTrainPipeline(
  file: string,
  plan?: PhysicalPlan,
  result: RankResult = trainerResult,
): TrainPipeline {
  return async (o: TrainPipelineOptions): Promise<TrainPipelineResult> => {
    const dist = o.dist ?? singleRank();
    const lead = dist.rank === 0;
    const resolved = await resolveSpecFile(file, { sets: o.sets });
    const p = plan ?? physicalPlan(file, resolved, { kind: 'cpu', devices: cpuDevices(dist.worldSize) });
    if (p.worldSize !== dist.worldSize)
      throw new Error(`the plan has ${p.worldSize} ranks, this run ${dist.worldSize}`);
    let r: TrainPipelineResult | undefined;
    const log = lead && o.hooks.log ? o.hooks.log : undefined;
    const ran = await runPipeline(resolved, {
      plan: p,
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
      barrier:
        dist.worldSize > 1
          ? async () => {
              await anyRank(dist.collective, false);
            }
          : undefined,
      // before the resources are disposed: the result hashes the final parameters
      onResources: (built) => {
        r = result.pick(built);
      },
    });
    if (!ran.ok) {
      const err = rootOf(ran.thrown) ?? new FlowError(ran.error?.operator ?? 'run', ran.error?.message ?? 'failed');
      // the other ranks would wait for this one in their next collective
      if (dist.worldSize > 1) dist.collective.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    if (!r) throw new Error(`${file}: ${result.missing}`);
    return { ...r, plan: p, nodes: ran.nodes, sources: ran.sources };
  };
}
