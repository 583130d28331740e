// What a training run is given and reports: the data it reads (TrainData), per-step progress, the
// result, and the shape of a run launchers execute (TrainPipeline). The run itself is a graph of
// training operators over a replica (operators/train/, src/nn/train/replica.ts) that the scheduler
// places on devices (src/scheduler/graph-run.ts); there is no second, imperative training loop.
import type { MetricsReport } from '../../schema/metrics.ts';
import { initBackend } from '../backend/backend.ts';
import { singleRank, type Dist } from './dist.ts';
import type { EvalResult } from '../eval/evaluate.ts';
import type { PackedBatch } from '../objective/loss.ts';
import { TrainReplica } from './replica.ts';
import type { TrainConfig } from './train-config.ts';
import { StepTally } from './train-tally.ts';

export { evaluate, type EvalResult } from '../eval/evaluate.ts';

export interface TrainBatch {
  batch: PackedBatch;
  /** the data source's position after this micro-batch (JSON): resuming there gives the next one.
   * Data parallel: the position in the global order, and after a rank's last micro-batch of a step,
   * the position after the whole global step (the same on every rank) */
  cursor: unknown;
}

export interface TrainData {
  /** training micro-batches from `cursor` (null: the beginning); at world size W, this rank's
   * gradAccum micro-batches of each global step (trainer.ts header, shardTrainData) */
  train(cursor: unknown): AsyncIterable<TrainBatch>;
  /** validation micro-batches, the same ones on every call */
  val?(): AsyncIterable<PackedBatch>;
}

export interface StepProgress {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerS: number;
  /** seconds left at the pace of this invocation so far */
  etaS: number;
}

export interface TrainHooks {
  /** one report per step ('train') and per evaluation ('val'); the pipeline writes them */
  onMetrics?(report: MetricsReport): void | Promise<void>;
  onStep?(p: StepProgress): void;
  log?(line: string): void;
  /** aborting stops after the current step, with a checkpoint */
  signal?: AbortSignal;
  /** continue from the run directory's latest checkpoint; without it a run directory that has one is refused */
  resume?: boolean;
  /** this process's place in a data-parallel run (default: alone, singleRank()) */
  dist?: Dist;
}

export interface TrainResult {
  ok: boolean;
  /** optimizer steps completed in the run as a whole */
  step: number;
  /** the step this invocation started from (0, or the checkpoint it resumed) */
  startStep: number;
  /** training loss of each step this invocation ran, in order */
  losses: number[];
  val?: EvalResult;
  tokens: number;
  durationMs: number;
  tokensPerS: number;
  params: number;
  /** parameters the run trains: params, or only the adapters' when the base is frozen */
  trainableParams?: number;
  backend: string;
  checkpoint?: string;
  configHash: string;
  stopped: boolean;
  /** sha256 of the final parameters (float32 bytes in model.specs order): equal on every rank */
  paramsSha256: string;
}

/** What `flowlm train` hands a training pipeline module's default export. */
export interface TrainPipelineOptions {
  /** `key=value` overrides of the pipeline's config (train-config.ts applyOverrides) */
  sets: string[];
  resume: boolean;
  hooks: Omit<TrainHooks, 'onMetrics' | 'resume' | 'dist'>;
  /** this process's place in a data-parallel run (default: alone); given by the scheduler's rank threads/processes */
  dist?: Dist;
}

/** A pipeline's result: the trainer's, plus where the run lives and anything the pipeline adds. */
export interface TrainPipelineResult extends TrainResult {
  runDir: string;
  extra?: Record<string, unknown>;
  /** the physical plan that ran (a spec run by the scheduler), as flowlm plan --json prints it */
  plan?: unknown;
  /** per-node stats of rank 0's graph */
  nodes?: Record<string, unknown>;
  /** rank 0's credit scopes: batches in flight now and at most (the readers' backpressure) */
  sources?: Record<string, { inFlight: number; inFlightBytes: number; peakInFlight: number }>;
}

export type TrainPipeline = (o: TrainPipelineOptions) => Promise<TrainPipelineResult>;
