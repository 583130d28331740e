// The entry of one model-parallel rank's worker thread (started by model-parallel-train.ts): builds the
// full initial model as a data-parallel run would (seed, or init.from), keeps its shard or stage,
// reads its replica's rows of each step, and runs the engine's optimizer steps with the run's
// learning-rate schedule. Grid rank 0 reports every step; the ranks of replica 0 hand their final
// parameters and AdamW state back for the one unsharded checkpoint. The outcome is one 'done' or
// 'failed' message.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../nn/backend/backend.ts';
import type { PipelineThreadHandles } from '../nn/parallel/pipeline-threads.ts';
import type { GridThreadHandles } from '../nn/parallel/tensor-grid.ts';
import { cosineLr } from '../nn/optim/schedule.ts';
import { initialModel } from '../nn/train/init-from.ts';
import { modelConfigOf, type TrainConfig } from '../nn/train/train-config.ts';
import type { ParallelKind } from './model-parallel-config.ts';
import { stepRows } from './model-parallel-data.ts';
import {
  pipelineEngine,
  tensorEngine,
  type RankEngine,
  type RankState,
  type RankStep,
} from './model-parallel-engines.ts';

export interface ModelParallelRankData {
  kind: ParallelKind;
  /** tp, or pipeline stages */
  size: number;
  dp: number;
  /** pipeline micro-batches per step */
  micro: number;
  /** grid rank: dpRank * size + (tpRank or stage) */
  rank: number;
  cfg: TrainConfig;
  tp?: GridThreadHandles;
  pp?: PipelineThreadHandles;
}

export type ModelParallelToMain =
  | { type: 'log'; line: string }
  | { type: 'step'; step: number; lr: number; report: RankStep }
  | { type: 'done'; rank: number; dpRank: number; state?: RankState; cursor: unknown }
  | { type: 'failed'; rank: number; name: string; message: string; stack?: string };

const d = workerData as ModelParallelRankData;
const port = parentPort;
if (!port) throw new Error('model-parallel-rank.ts runs only as a worker thread (started by model-parallel-train.ts)');
const post = (m: ModelParallelToMain) => port.postMessage(m);
const lead = d.rank === 0;

async function main(): Promise<void> {
  let engine: RankEngine | undefined;
  try {
    await initBackend({ announce: false, headThread: false });
    const { cfg } = d;
    const model = modelConfigOf(cfg);
    const init = await initialModel(cfg, model, lead ? (line) => post({ type: 'log', line }) : () => undefined);
    const full = init.getParams();
    init.dispose();
    engine =
      d.kind === 'tp'
        ? tensorEngine(cfg, model, full, d.tp!)
        : pipelineEngine(cfg, model, full, { stages: d.size, dp: d.dp, rank: d.rank, micro: d.micro, handles: d.pp! });
    const schedule = { maxLr: cfg.lr.max, minLr: cfg.lr.min, warmupSteps: cfg.lr.warmupSteps, totalSteps: cfg.steps };
    const rows = stepRows(cfg, engine.dpRank, d.dp);
    let cursor: unknown = null;
    for (let step = 0; step < cfg.steps; step++) {
      const next = await rows.next();
      if (next.done)
        throw new Error(`the training data ran out at step ${step + 1} of ${cfg.steps}; use fewer steps or more data`);
      const lr = cosineLr(schedule, step);
      const report = await engine.step(next.value.micro, lr);
      cursor = next.value.cursor;
      if (lead) post({ type: 'step', step: step + 1, lr, report });
    }
    await rows.return(undefined);
    const state = engine.dpRank === 0 ? engine.state() : undefined;
    await engine.close();
    post({ type: 'done', rank: d.rank, dpRank: engine.dpRank, state, cursor });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'failed', rank: d.rank, name: e.name, message: e.message, stack: e.stack });
  } finally {
    engine?.dispose();
  }
}

void main();
