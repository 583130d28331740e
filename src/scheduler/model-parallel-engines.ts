// One model-parallel rank's part of the model and its optimizer step, the same shape for both engines:
// a tensor-parallel shard (src/nn/parallel/tensor-*.ts) or a pipeline stage (pipeline-*.ts), each
// built from the full initial model's values, with AdamW over its own parameters.
import type { PackedBatch } from '../nn/objective/loss.ts';
import { AdamW, type AdamWOptions } from '../nn/optim/adamw.ts';
import { createPipelineStage } from '../nn/parallel/pipeline-stages.ts';
import { pipelineTrainStep } from '../nn/parallel/pipeline-step.ts';
import {
  closePipelineComms,
  threadPipelineComms,
  type PipelineThreadHandles,
} from '../nn/parallel/pipeline-threads.ts';
import { gridPosition, gridThreadCollectives, type GridThreadHandles } from '../nn/parallel/tensor-grid.ts';
import { TensorShardModel } from '../nn/parallel/tensor-model.ts';
import { tensorGlobalNorm, tensorParallelGrads, tensorParallelStep } from '../nn/parallel/tensor-step.ts';
import type { GptConfig } from '../nn/model/config.ts';
import { joinRows, splitRows } from '../nn/train/step-rows.ts';
import type { TrainConfig } from '../nn/train/train-config.ts';
import type { Gpt } from '../nn/model/gpt.ts';
import type { Collective } from '../runtime/collectives/collective.ts';

export interface RankStep {
  loss: number;
  gradNorm: number;
  /** input tokens of the global step (every replica) */
  tokens: number;
  /** pipeline only: the measured and the theoretical bubble fraction */
  bubble?: { measured: number; theoretical: number };
}

/** What a rank holds at the end: its parameters and AdamW state, by name. */
export interface RankState {
  params: Map<string, Float32Array>;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
  step: number;
}

export interface RankEngine {
  /** this rank's data-parallel replica */
  dpRank: number;
  step(micro: PackedBatch[], lr: number): Promise<RankStep>;
  state(): RankState;
  close(): Promise<void>;
  dispose(): void;
}

const adamwOptions = (cfg: TrainConfig): AdamWOptions => ({
  beta1: cfg.beta1,
  beta2: cfg.beta2,
  weightDecay: cfg.weightDecay,
});

function stateOf(params: Map<string, Float32Array>, opt: AdamW): RankState {
  const s = opt.getState();
  return { params, m: new Map(s.m), v: new Map(s.v), step: s.step };
}

/** A tensor-parallel shard of the grid rank `h.rank`. */
export function tensorEngine(
  cfg: TrainConfig,
  model: GptConfig,
  full: Map<string, Float32Array>,
  h: GridThreadHandles,
): RankEngine {
  const pos = gridPosition(h.rank, h.tp, h.dp);
  const m = new TensorShardModel(model, full, h.tp, pos.tpRank);
  const opt = new AdamW(m.specs, adamwOptions(cfg));
  const groups = gridThreadCollectives(h);
  const o = { tp: groups.tp, dp: groups.dp, clipNorm: cfg.clipNorm };
  return {
    dpRank: pos.dpRank,
    async step(micro, lr) {
      if (micro.length === 1) {
        const r = await tensorParallelStep(m, opt, micro[0]!, { ...o, lr });
        return { loss: r.loss, gradNorm: r.gradNorm, tokens: r.tokens };
      }
      return accumulatedStep(m, opt, micro, { ...o, lr });
    },
    state: () => stateOf(m.getParams(), opt),
    close: async () => {
      await Promise.all([groups.tp.close(), groups.dp.close()]);
    },
    dispose: () => m.dispose(),
  };
}

/** tensorParallelStep over several micro-batches (gradAccum > 1): their gradients summed in order and
 * scaled by 1/k as train-step.ts accumulates them, then the step's DP mean, global norm, clip and AdamW.
 * (tensorParallelStep takes one micro-batch; with a list it would make this unnecessary.) */
async function accumulatedStep(
  m: TensorShardModel,
  opt: AdamW,
  micro: PackedBatch[],
  o: {
    tp: Collective;
    dp: Collective;
    clipNorm: number;
    lr: number;
  },
): Promise<RankStep> {
  let sum: Map<string, Float32Array> | undefined;
  let loss = 0;
  for (const b of micro) {
    const g = await tensorParallelGrads(m, b, o.tp);
    loss += g.loss;
    if (!sum) sum = g.grads;
    else
      for (const [name, v] of g.grads) {
        const acc = sum.get(name)!;
        for (let i = 0; i < v.length; i++) acc[i]! += v[i]!;
      }
  }
  const k = 1 / micro.length;
  const total = m.specs.reduce((n, s) => n + sum!.get(s.name)!.length, 0);
  // one buffer for the DP mean: every gradient (scaled), then the loss
  const flat = new Float32Array(total + 1);
  let at = 0;
  for (const s of m.specs) {
    const g = sum!.get(s.name)!;
    for (let i = 0; i < g.length; i++) flat[at + i] = g[i]! * k;
    at += g.length;
  }
  flat[total] = loss * k;
  if (o.dp.worldSize > 1) await o.dp.allReduce(flat, 'mean');
  const grads = new Map<string, Float32Array>();
  at = 0;
  for (const s of m.specs) {
    const n = sum!.get(s.name)!.length;
    grads.set(s.name, flat.subarray(at, at + n));
    at += n;
  }
  const gradNorm = await tensorGlobalNorm(m, grads, o.tp);
  if (o.clipNorm) {
    const f = o.clipNorm / (gradNorm + 1e-6); // as clipGlobalNorm
    if (f < 1) for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i]! *= f;
  }
  // AdamW reads nothing of the model but param(name), which the shard has under the same names
  const host: Pick<Gpt, 'param'> = m;
  opt.apply(host as Gpt, grads, o.lr);
  const tokens = micro.reduce((n, b) => n + b.batch * b.seqLen, 0) * o.dp.worldSize;
  return { loss: o.dp.worldSize > 1 ? flat[total]! : loss * k, gradNorm, tokens };
}

/** A pipeline stage: grid rank = dpRank * stages + stage; the step's rows split into `micro` micro-batches. */
export function pipelineEngine(
  cfg: TrainConfig,
  model: GptConfig,
  full: Map<string, Float32Array>,
  o: { stages: number; dp: number; rank: number; micro: number; handles: PipelineThreadHandles },
): RankEngine {
  const stage = o.rank % o.stages;
  const dpRank = Math.floor(o.rank / o.stages);
  const st = createPipelineStage(model, o.stages, stage, { values: full });
  const opt = new AdamW(st.plan.specs, adamwOptions(cfg));
  const comms = threadPipelineComms({ stages: o.stages, dp: o.dp, stage, dpRank, tiedHead: model.tiedHead }, o.handles);
  return {
    dpRank,
    async step(micro, lr) {
      const rows = micro.reduce((n, b) => n + b.batch, 0);
      const parts = o.micro === micro.length ? micro : splitRows(joinRows(micro), rows / o.micro);
      const r = await pipelineTrainStep(st, opt, comms, parts, {
        lr,
        clipNorm: cfg.clipNorm,
        labelSmoothing: cfg.labelSmoothing,
      });
      return {
        loss: r.loss,
        gradNorm: r.gradNorm,
        tokens: r.tokens * o.dp,
        bubble: { measured: r.bubble.measured, theoretical: r.bubble.theoretical },
      };
    },
    state: () => stateOf(st.model.getParams(), opt),
    close: () => closePipelineComms(comms),
    dispose: () => st.model.dispose(),
  };
}
