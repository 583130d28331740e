// What a replica starts from (replica.ts): a fresh model from the seed (or another run's weights,
// init.from) with a fresh optimizer at step 0, or exactly the state of the run directory's latest
// checkpoint (parameters, AdamW moments and step, data cursor, the step's metric rows), which is refused
// unless resuming was asked for and the config hashes the same.
import { withCurrentRun } from '../../runs/current-run.ts';
import type { MetricRow } from '../../schema/metrics.ts';
import { findLatest, loadCheckpoint, valuesOf } from '../checkpoint/index.ts';
import { recordedMetrics } from './replica-checkpoint.ts';
import { singleRank, type Dist } from './dist.ts';
import { Gpt } from '../model/gpt.ts';
import type { Optimizer } from '../optim/optimizer.ts';
import { optimizerOf } from './replica-optimizer.ts';
import { initialModel } from './init-from.ts';
import { configHash, modelConfigOf, type TrainConfig } from './train-config.ts';
import { paramCount, trainableSpecs } from '../adapters/trainable.ts';
import { adapterOnlyRef, adapterOnlyValues, freshAdapterRef, type AdapterOnlyRef } from '../checkpoint/adapter-only.ts';
import { paramSpecs } from '../model/params.ts';

export interface ReplicaState {
  dist: Dist;
  log: (line: string) => void;
  hash: string;
  model: Gpt;
  optimizer: Optimizer;
  /** optimizer steps done */
  startStep: number;
  /** the data position after the last step (null: the beginning) */
  cursor: unknown;
  /** set when the base is frozen: what adapter-only checkpoints record about it */
  adapterRef?: AdapterOnlyRef;
  /** resumed: the metric rows of the checkpoint's step */
  checkpointMetrics: MetricRow[];
}

export async function openReplicaState(
  cfg: TrainConfig,
  o: { dist?: Dist; resume?: boolean; log?(line: string): void },
): Promise<ReplicaState> {
  const dist = o.dist ?? singleRank();
  const log = o.log ?? (() => undefined);
  const hash = configHash(cfg, dist.worldSize);
  // a recorded run (src/runs) keeps the resolved config and its hash; rank 0 speaks for the run
  if (dist.rank === 0) withCurrentRun((r) => r.setConfig(cfg, hash), log);
  const modelCfg = modelConfigOf(cfg);
  const optimizerFor = (m: Gpt): Optimizer => optimizerOf(cfg, m, dist.collective);
  const report = (m: Gpt) => {
    const n = paramCount(trainableSpecs(m.specs, m.config));
    log(`trainable parameters: ${n} of ${m.numParams()} (${((100 * n) / m.numParams()).toFixed(3)}%)`);
  };
  const latest = await findLatest(cfg.runDir);
  if (latest && !o.resume)
    throw new Error(
      `train: ${cfg.runDir} already holds checkpoint ${latest.dir}; resume it (--resume) or choose a new runDir`,
    );
  if (!latest) {
    // from the seed, or another run's weights (init.from) with this run's fresh optimizer and step 0
    const model = await initialModel(cfg, modelCfg, log);
    report(model);
    const adapterRef = await freshAdapterRef(model, cfg.init.from, cfg.seed);
    const optimizer = optimizerFor(model);
    return { dist, log, hash, model, optimizer, startStep: 0, cursor: null, adapterRef, checkpointMetrics: [] };
  }
  const ck = await loadCheckpoint(latest.dir);
  if (ck.state.configHash !== hash) {
    throw new Error(
      `train: ${latest.dir} was written by a run with config hash ${ck.state.configHash}, this config (at world ` +
        `size ${dist.worldSize}) hashes to ${hash}; ` +
        'resume with the same settings (the same global batch: batchSize x gradAccum x world size), or use a new ' +
        'runDir',
    );
  }
  const step = ck.optimizer.step;
  if (typeof step !== 'number') throw new Error(`train: ${latest.dir} has no optimizer step count`);
  const adapterRef = adapterOnlyRef(ck.state);
  const values = adapterRef
    ? await adapterOnlyValues(ck, adapterRef, paramSpecs(modelCfg), modelCfg)
    : valuesOf(ck.params);
  const model = Gpt.create(modelCfg, { values });
  report(model);
  const optimizer = optimizerFor(model);
  optimizer.setState({ step, m: valuesOf(ck.optimizer.m), v: valuesOf(ck.optimizer.v) });
  log(`resumed from ${latest.dir} (step ${ck.step})`);
  return {
    dist,
    log,
    hash,
    model,
    optimizer,
    startStep: ck.step,
    cursor: ck.state.dataCursor,
    adapterRef,
    checkpointMetrics: recordedMetrics(ck.state),
  };
}
