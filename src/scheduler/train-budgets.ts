// The training budgets of a graph with an nn/trainer resource: the batch a step takes, the gradient
// traffic and the memory of one replica, from the resources' configs and the data source's (the
// shards' row length from their manifest.json when it is there) — without opening anything.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { paramSpecs, sizeOf } from '../nn/model/params.ts';
import { modelConfigOf, trainConfigSchema, type TrainConfig } from '../nn/train/train-config.ts';
import type { ResolvedPipeline } from '../graph/validate.ts';
import type { TrainBudgets } from './plan-types.ts';
import { memoryPlan, type MemoryPlan } from './memory-plan.ts';

const F32 = 4;

function shardSeqLen(dir: string): number | undefined {
  const file = join(resolve(dir), 'manifest.json');
  if (!existsSync(file)) return undefined;
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as { seqLen?: unknown };
    return typeof m.seqLen === 'number' ? m.seqLen : undefined;
  } catch {
    return undefined;
  }
}

type Obj = Record<string, unknown>;

/** The training config a trainer resource will run with (the data fields as its source gives them). */
export function trainConfigOf(
  p: ResolvedPipeline,
  trainer: string,
): { cfg: TrainConfig; dataDir?: string } | undefined {
  const t = p.resources.get(trainer);
  if (!t) return undefined;
  const { model: modelName, optimizer: optName, ...rest } = t.config as Obj;
  const model = p.resources.get(String(modelName))?.config as Obj | undefined;
  const opt = p.resources.get(String(optName))?.config as Obj | undefined;
  if (!model || !opt) return undefined;
  const source = [...p.nodes.values()].find(
    (n) =>
      n.uses.some((u) => u.name === trainer) &&
      (n.def.id === 'train/shard-batches' || n.def.id === 'train/stream-batches'),
  );
  const sc = (source?.config ?? {}) as Obj;
  const dataDir = typeof sc.dir === 'string' ? sc.dir : undefined;
  const { preset, ...fields } = model;
  const data = {
    train: dataDir ?? `stream:${source?.id ?? '?'}`,
    val: sc.val,
    holdoutRows: sc.holdoutRows ?? 0,
    seqLen: sc.seqLen,
    shuffle: sc.shuffle ?? false,
  };
  const r = trainConfigSchema.safeParse({
    ...rest,
    ...opt,
    preset,
    model: Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
    data,
  });
  return r.success ? { cfg: r.data, dataDir } : undefined;
}

export function trainBudgets(
  trainer: string,
  cfg: TrainConfig,
  dataDir: string | undefined,
  worldSize: number,
  notes: string[],
): TrainBudgets & { memory: MemoryPlan } {
  const model = modelConfigOf(cfg);
  const manifestLen = dataDir ? shardSeqLen(dataDir) : undefined;
  const seqLen = cfg.data.seqLen ?? manifestLen ?? model.contextLength;
  if (cfg.data.seqLen === undefined && manifestLen === undefined)
    notes.push(
      `${dataDir ? `${dataDir}/manifest.json not found` : 'streamed rows'}: sequence length taken as the model's context (${model.contextLength})`,
    );
  const params = paramSpecs(model).reduce((s, p) => s + sizeOf(p.shape), 0);
  const zero = cfg.zero === true && worldSize > 1;
  if (cfg.zero === true && worldSize === 1)
    notes.push('zero=true at world size 1: nothing to shard, plain AdamW state');
  const A = cfg.gradAccum,
    B = cfg.batchSize,
    W = worldSize;
  const gradientBytes = params * F32;
  // the memory planner (memory-plan.ts): the terms at the step's peak, as this run is configured
  const offloadDisk = cfg.offload === 'disk';
  if (offloadDisk)
    notes.push(`offload disk: AdamW's moments (${((8 * params) / 2 ** 20).toFixed(1)} MiB) in a file, not in memory`);
  const memory = memoryPlan(model, { rows: B, seqLen, worldSize: W, zero, offloadDisk }, params);
  const m = model.activationCheckpointing ? memory.checkpointed : memory.plain;
  const perReplica = {
    params: m.params,
    grads: m.grads + m.flatGrads,
    moments: m.moments,
    activations: m.activations + m.kernelState + m.headChunk,
    total: 0,
  };
  perReplica.total = perReplica.params + perReplica.grads + perReplica.moments + perReplica.activations;
  notes.push(
    "memory per replica: the planner's peak of one step (flowlm plan --memory shows its terms, with and without checkpointing)",
  );
  return {
    trainer,
    microBatchRows: B,
    gradAccum: A,
    globalBatchRows: W * A * B,
    seqLen,
    tokensPerStep: W * A * B * seqLen,
    params,
    gradientBytesPerStep: gradientBytes,
    ringBytesSentPerRank: Math.round(((2 * (W - 1)) / W) * gradientBytes),
    perReplica,
    memory,
    zero,
    runDir: cfg.runDir,
  };
}
