// What a training replica's checkpoint holds beyond the tensors, and writing it (rank 0): parameters
// (adapter-only when the base is frozen: the base is named, not stored), the unsharded AdamW moments
// and step, the data cursor, the config and its hash, and the step's metric rows, which a resumed run
// puts back into its metrics log when a kill came between the checkpoint and the log.
// checkpointDtype bf16 / f16 rounds the weights in params.arrow (half its bytes) and keeps no float32
// master copy: with one the checkpoint would outgrow the f32 one (2 + 4 + 8 bytes per parameter
// against 4 + 8), so a resume continues from the rounded weights, close to the uninterrupted run but
// not identical (test/nn/train/checkpoint-dtype.test.ts); f32, the default, resumes exactly. AdamW's
// moments stay float32 whatever the setting: v (squared gradients, 1e-10 and less) flushes to zero in
// f16 (smallest subnormal 6e-8) and its square root divides every update, so 16 bits would change the
// steps themselves; mixed-precision training keeps optimizer state (and master weights) in float32
// for this reason (Micikevicius et al., "Mixed Precision Training", 2018; DeepSpeed and Megatron-LM).
import { saveCheckpoint, withShapes, type NamedTensors } from '../checkpoint/index.ts';
import { frozenSpecs, type AdapterOnlyRef } from '../checkpoint/adapter-only.ts';
import type { Gpt } from '../model/gpt.ts';
import type { MetricRow } from '../../schema/metrics.ts';
import { modelConfigOf, type TrainConfig } from './train-config.ts';

export interface ReplicaCheckpoint {
  cfg: TrainConfig;
  model: Gpt;
  optimizer: { m: Map<string, Float32Array>; v: Map<string, Float32Array>; step: number };
  step: number;
  cursor: unknown;
  hash: string;
  worldSize: number;
  adapterRef?: AdapterOnlyRef;
  metrics: readonly MetricRow[];
}

/** Writes the checkpoint into cfg.runDir (atomic; the last keepLast kept) and returns its directory. */
export async function writeReplicaCheckpoint(c: ReplicaCheckpoint): Promise<string> {
  const { cfg, model } = c;
  const shapes = new Map(model.specs.map((s) => [s.name, s.shape]));
  const params = model.getParams();
  // adapter-only: the trained parameters alone; the base is named by adapterRef
  if (c.adapterRef) for (const s of frozenSpecs(model.specs, model.config)) params.delete(s.name);
  const tensors = (m: Map<string, Float32Array>): NamedTensors => withShapes(m, shapes);
  const saved = await saveCheckpoint(
    cfg.runDir,
    {
      step: c.step,
      params: tensors(params),
      optimizer: { m: tensors(c.optimizer.m), v: tensors(c.optimizer.v), step: c.optimizer.step },
      state: {
        rng: { derivedFrom: 'seed/step/micro-batch', seed: cfg.seed },
        dataCursor: c.cursor as never,
        configHash: c.hash,
        config: { ...cfg, modelConfig: modelConfigOf(cfg) } as never,
        extra: {
          worldSize: c.worldSize,
          zero: cfg.zero,
          globalBatch: cfg.batchSize * cfg.gradAccum * c.worldSize,
          ...(c.adapterRef ? { adapterOnly: c.adapterRef } : {}),
          metrics: c.metrics,
        },
      },
    },
    // the weights as the config asks (checkpointDtype); the moments always float32
    { keepLast: cfg.keepLast, paramsDtype: cfg.checkpointDtype },
  );
  return saved.dir;
}

/** The metric rows a checkpoint recorded (none from one written before they were recorded). */
export function recordedMetrics(state: { extra?: unknown }): MetricRow[] {
  const rows = (state.extra as { metrics?: unknown } | undefined)?.metrics;
  return Array.isArray(rows) ? (rows as MetricRow[]) : [];
}
