// The one checkpoint of a model-parallel run: replica 0's shards joined (tensor parallel: unshardParams,
// padding rows dropped) or its stages' parameters gathered (pipeline: the first stage's wte, the last
// stage's copy being equal), AdamW's moments the same way, written by writeReplicaCheckpoint as a
// data-parallel run of the same global batch writes it (its config hash at world size dp), so eval,
// generate and export load it like any other.
import { createHash } from 'node:crypto';
import type { GptConfig } from '../nn/model/config.ts';
import { Gpt } from '../nn/model/gpt.ts';
import { paramSpecs } from '../nn/model/params.ts';
import { unshardParams } from '../nn/parallel/tensor-shard.ts';
import { writeReplicaCheckpoint } from '../nn/train/replica-checkpoint.ts';
import { configHash, type TrainConfig } from '../nn/train/train-config.ts';
import type { MetricRow } from '../schema/metrics.ts';
import type { ParallelKind } from './model-parallel-config.ts';
import type { RankState } from './model-parallel-engines.ts';

/** The whole model's state from replica 0's ranks, `parts[i]` being tp rank i or stage i. */
export function joinStates(kind: ParallelKind, model: GptConfig, parts: readonly RankState[]): RankState {
  const field = (f: 'params' | 'm' | 'v'): Map<string, Float32Array> => {
    if (kind === 'tp')
      return unshardParams(
        model,
        parts.map((p) => p[f]),
      );
    const out = new Map<string, Float32Array>();
    for (const s of paramSpecs(model)) {
      const owner = parts.find((p) => p[f].has(s.name));
      if (!owner) throw new Error(`model-parallel checkpoint: no stage holds ${s.name} (${f})`);
      out.set(s.name, owner[f].get(s.name)!);
    }
    return out;
  };
  return { params: field('params'), m: field('m'), v: field('v'), step: parts[0]!.step };
}

export interface WrittenCheckpoint {
  dir: string;
  params: number;
  /** sha256 of the parameters' float32 bytes in the model's order, as a data-parallel run reports it */
  paramsSha256: string;
}

export async function writeModelParallelCheckpoint(c: {
  cfg: TrainConfig;
  model: GptConfig;
  state: RankState;
  cursor: unknown;
  dp: number;
  metrics: readonly MetricRow[];
}): Promise<WrittenCheckpoint> {
  const gpt = Gpt.create(c.model, { values: c.state.params });
  try {
    const dir = await writeReplicaCheckpoint({
      cfg: c.cfg,
      model: gpt,
      optimizer: { m: c.state.m, v: c.state.v, step: c.state.step },
      step: c.cfg.steps,
      cursor: c.cursor,
      hash: configHash(c.cfg, c.dp),
      worldSize: c.dp,
      metrics: c.metrics,
    });
    const h = createHash('sha256');
    for (const v of gpt.getParams().values()) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return { dir, params: gpt.numParams(), paramsSha256: h.digest('hex') };
  } finally {
    gpt.dispose();
  }
}
