// The training loop: micro-batches from an injected data source through the stages of a replica
// (replica.ts: forward-backward, all-reduce, optimizer step), metrics, evaluation every N steps,
// atomic checkpoints every N steps, and resume that continues bit for bit. Data parallel: each rank
// runs this loop with its `dist` and its share of the data; all ranks take the same steps, agree on
// when to stop, and rank 0 alone reports, evaluates and writes checkpoints.
// src/ does not know the shard reader: the pipeline passes the data in as `TrainData`.
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
  backend: string;
  checkpoint?: string;
  configHash: string;
  stopped: boolean;
  /** sha256 of the final parameters (float32 bytes in model.specs order): equal on every rank */
  paramsSha256: string;
}

const everyN = (n: number, step: number, last: number) => step === last || (n > 0 && step % n === 0);

export async function train(cfg: TrainConfig, data: TrainData, hooks: TrainHooks = {}): Promise<TrainResult> {
  const backend = await initBackend();
  const dist = hooks.dist ?? singleRank();
  const lead = dist.rank === 0;
  const log = lead && hooks.log ? hooks.log : () => undefined;
  let replica: TrainReplica | undefined;
  let it: AsyncIterator<TrainBatch> | undefined;
  try {
    const rep = replica = await TrainReplica.open(cfg, { dist, resume: hooks.resume, log });
    const tally = new StepTally(rep);
    it = data.train(rep.cursor)[Symbol.asyncIterator]();
    while (rep.step < cfg.steps) {
      const micro: PackedBatch[] = [];
      let cursor: unknown;
      while (micro.length < cfg.gradAccum) {
        const r = await it.next();
        if (r.done) throw new Error(`train: the training data ran out at step ${rep.step + 1} of ${cfg.steps}; use more epochs or fewer steps`);
        micro.push(r.value.batch);
        cursor = r.value.cursor;
      }
      const r = await rep.optimizerStep(await rep.allReduce(rep.forwardBackward(micro)), cursor);
      const step = r.step;
      const p = tally.add(r);
      if (lead) {
        await hooks.onMetrics?.({ step, split: 'train', values: { loss: r.loss, lr: r.lr, grad_norm: r.gradNorm, tokens_per_s: p.tokensPerS } });
        hooks.onStep?.(p);
      }
      // a stop request reaches one rank (the main thread's signal); every rank stops after this step
      tally.stopped = await rep.endStep(hooks.signal?.aborted === true);
      const last = tally.stopped ? step : cfg.steps;
      if (data.val && everyN(cfg.evalEvery, step, last)) {
        const v = await rep.evaluate(data.val());
        if (v) {
          tally.val = v;
          await hooks.onMetrics?.({ step, split: 'val', values: { loss: v.loss, perplexity: v.perplexity } });
        }
      }
      if (everyN(cfg.checkpointEvery, step, last)) tally.checkpoint = await rep.checkpoint() ?? tally.checkpoint;
      if (tally.stopped) break;
      // in-memory data resolves in microtasks and a step at world size 1 never waits on I/O: without a
      // turn of the event loop, signals (a stop request), timers and the metrics file writes would
      // wait for the run's end
      await new Promise((res) => setImmediate(res));
    }
    return tally.result(backend.name);
  } catch (err) {
    // peers blocked in a collective would otherwise wait for this rank forever
    if (dist.worldSize > 1) dist.collective.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  } finally {
    await it?.return?.();
    replica?.dispose();
  }
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
}

export type TrainPipeline = (o: TrainPipelineOptions) => Promise<TrainPipelineResult>;
