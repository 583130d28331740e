// What the PPO operators share: the config field naming the spec's `posttrain/ppo` resource, the
// iteration facts each batch carries in its schema metadata, and how a stage finds the run's state.
import type { RecordBatch } from 'apache-arrow';
import { getEncoding } from 'js-tiktoken';
import type { OperatorContext } from '../../src/core/context.ts';
import { resourceRef } from '../../src/core/resource.ts';
import { tiktokenName } from '../../src/nn/checkpoint/load-model.ts';
import type { PpoRun } from '../../src/nn/ppo/ppo-resource.ts';
import { metaOf } from '../../src/nn/train/step-batches.ts';

export const ppoField = resourceRef(
  'posttrain/ppo',
  "the posttrain/ppo resource (in the spec's resources) of this run",
);

/** Schema-metadata key of a PPO batch's iteration facts (PpoMeta), JSON. */
export const PPO_KEY = 'flowlm.ppo';

export interface PpoMeta {
  /** the iteration this batch belongs to (1-based) */
  iteration: number;
  /** prompts consumed once this iteration's are (the data cursor after it) */
  cursor: number;
  /** the KL coefficient the rewards were shaped with (from ppo-advantages on) */
  klCoef?: number;
  /** mean summed per-token KL of the rollouts to the reference (from ppo-advantages on) */
  meanKl?: number;
  /** the run ends with this iteration (from ppo-update on) */
  last?: boolean;
}

export function ppoRunOf(ctx: OperatorContext, name: string): Promise<PpoRun> {
  if (!ctx.resources)
    return Promise.reject(
      new Error(
        `${ctx.nodeId}: the PPO run "${name}" is a resource of a flowlm run; run this operator in a spec that ` +
          `declares it (resources: { ${name}: { kind: 'posttrain/ppo', ... } })`,
      ),
    );
  return ctx.resources.get<PpoRun>(name, 'posttrain/ppo');
}

export function ppoMetaOf(batch: RecordBatch, where: string): PpoMeta {
  const m = metaOf(batch, PPO_KEY) as PpoMeta | undefined;
  if (!m || !Number.isInteger(m.iteration))
    throw new Error(
      `${where}: batch has no ${PPO_KEY} metadata with an iteration; it must come from the PPO chain ` +
        `(posttrain/ppo-prompts)`,
    );
  return m;
}

/** A stage's view of each batch: the run, its state (opened by the source) and the batch's iteration. */
export function ppoStage(ctx: OperatorContext, name: string) {
  const run = ppoRunOf(ctx, name);
  run.catch(() => undefined); // reported where it is awaited, with the batch
  return async (batch: RecordBatch) => {
    const r = await run;
    const state = await r.state();
    const meta = ppoMetaOf(batch, ctx.nodeId);
    if (meta.iteration !== state.iteration + 1)
      throw new Error(
        `${ctx.nodeId}: a batch of iteration ${meta.iteration} arrived when the run is at iteration ` +
          `${state.iteration}; feed the chain from posttrain/ppo-prompts`,
      );
    return { run: r, state, meta };
  };
}

const eosIds = new Map<string, number>();

/** The end-of-text id of an encoding (building a tokenizer costs tens of milliseconds: once each). */
export function eosOf(encoding: string): number {
  let id = eosIds.get(encoding);
  if (id === undefined) {
    id = getEncoding(tiktokenName(encoding)).encode('<|endoftext|>', 'all')[0]!;
    eosIds.set(encoding, id);
  }
  return id;
}
