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
import { tensorParallelStep } from '../nn/parallel/tensor-step.ts';
import type { GptConfig } from '../nn/model/config.ts';
import { joinRows, splitRows } from '../nn/train/step-rows.ts';
import type { TrainConfig } from '../nn/train/train-config.ts';

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
      const r = await tensorParallelStep(m, opt, micro, { ...o, lr });
      return { loss: r.loss, gradNorm: r.gradNorm, tokens: r.tokens };
    },
    state: () => stateOf(m.getParams(), opt),
    close: async () => {
      await Promise.all([groups.tp.close(), groups.dp.close()]);
    },
    dispose: () => m.dispose(),
  };
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
