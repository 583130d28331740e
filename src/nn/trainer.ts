// The training loop: micro-batches from an injected data source, trainStep, metrics, evaluation every
// N steps, atomic checkpoints every N steps, and resume that continues bit for bit. A checkpoint holds
// everything the next step depends on: parameters, AdamW moments and step, the RNG state (dropout) and
// the data cursor after the last micro-batch consumed; the data source resumes from that cursor.
// src/ does not know the shard reader: the pipeline passes the data in as `TrainData`.
import { Rng, type RngState } from '../runtime/rng.ts';
import type { MetricsReport } from '../schema/metrics.ts';
import { AdamW } from './adamw.ts';
import { initBackend } from './backend.ts';
import { findLatest, loadCheckpoint, saveCheckpoint, valuesOf, withShapes, type NamedTensors } from './checkpoint/index.ts';
import { Gpt } from './gpt.ts';
import { autoregressiveLossValue, type PackedBatch } from './loss.ts';
import { cosineLr } from './schedule.ts';
import { configHash, modelConfigOf, type TrainConfig } from './train-config.ts';
import { trainStep } from './train-step.ts';

export interface TrainBatch {
  batch: PackedBatch;
  /** the data source's position after this micro-batch (JSON): resuming there gives the next one */
  cursor: unknown;
}

export interface TrainData {
  /** training micro-batches from `cursor` (null: the beginning) */
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
}

export interface EvalResult { loss: number; perplexity: number; batches: number }

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
}

/** Mean validation loss over at most `maxBatches` micro-batches, and its perplexity. */
export async function evaluate(model: Gpt, batches: AsyncIterable<PackedBatch>, maxBatches: number, labelSmoothing = 0): Promise<EvalResult> {
  let sum = 0;
  let weight = 0;
  let n = 0;
  for await (const b of batches) {
    if (n >= maxBatches) break;
    const rows = b.batch;
    sum += autoregressiveLossValue(model, b, { labelSmoothing }) * rows;
    weight += rows;
    n++;
  }
  if (n === 0) throw new Error('evaluate: the validation data yielded no batches; give data.val or a larger data.holdoutRows');
  const loss = sum / weight;
  return { loss, perplexity: Math.exp(loss), batches: n };
}

const everyN = (n: number, step: number, last: number) => step === last || (n > 0 && step % n === 0);

export async function train(cfg: TrainConfig, data: TrainData, hooks: TrainHooks = {}): Promise<TrainResult> {
  const backend = await initBackend();
  const log = hooks.log ?? (() => undefined);
  const hash = configHash(cfg);
  const modelCfg = modelConfigOf(cfg);

  // model, optimizer, RNG and data position: fresh, or exactly as the latest checkpoint left them
  let model: Gpt;
  let rng: Rng;
  let cursor: unknown = null;
  let startStep = 0;
  const latest = await findLatest(cfg.runDir);
  const opt = (m: Gpt) => new AdamW(m.specs, { beta1: cfg.beta1, beta2: cfg.beta2, weightDecay: cfg.weightDecay });
  let optimizer: AdamW;
  if (latest && !hooks.resume) throw new Error(`train: ${cfg.runDir} already holds checkpoint ${latest.dir}; resume it (--resume) or choose a new runDir`);
  if (latest) {
    const ck = await loadCheckpoint(latest.dir);
    if (ck.state.configHash !== hash) {
      throw new Error(`train: ${latest.dir} was written by a run with config hash ${ck.state.configHash}, this config hashes to ${hash}; `
        + 'resume with the same settings, or use a new runDir');
    }
    model = Gpt.create(modelCfg, { values: valuesOf(ck.params) });
    optimizer = opt(model);
    const step = ck.optimizer.step;
    if (typeof step !== 'number') throw new Error(`train: ${latest.dir} has no optimizer step count`);
    optimizer.setState({ step, m: valuesOf(ck.optimizer.m), v: valuesOf(ck.optimizer.v) });
    rng = Rng.restore(ck.state.rng as RngState);
    cursor = ck.state.dataCursor;
    startStep = ck.step;
    log(`resumed from ${latest.dir} (step ${startStep})`);
  } else {
    model = Gpt.create(modelCfg, { seed: cfg.seed });
    optimizer = opt(model);
    rng = new Rng(cfg.seed);
  }
  const shapes = new Map(model.specs.map((s) => [s.name, s.shape]));
  const tensors = (m: Map<string, Float32Array>): NamedTensors => withShapes(m, shapes);
  const schedule = { maxLr: cfg.lr.max, minLr: cfg.lr.min, warmupSteps: cfg.lr.warmupSteps, totalSteps: cfg.steps };

  let checkpointDir: string | undefined;
  const save = async (step: number) => {
    const st = optimizer.getState();
    const saved = await saveCheckpoint(cfg.runDir, {
      step,
      params: tensors(model.getParams()),
      optimizer: { m: tensors(st.m), v: tensors(st.v), step: st.step },
      state: { rng: rng.save(), dataCursor: cursor as never, configHash: hash, config: { ...cfg, modelConfig: modelCfg } as never },
    }, { keepLast: cfg.keepLast });
    checkpointDir = saved.dir;
    log(`checkpoint ${saved.dir}`);
  };

  const losses: number[] = [];
  let val: EvalResult | undefined;
  let tokens = 0;
  let step = startStep;
  let stopped = false;
  const t0 = performance.now();
  const it = data.train(cursor)[Symbol.asyncIterator]();
  try {
    while (step < cfg.steps) {
      const micro: PackedBatch[] = [];
      while (micro.length < cfg.gradAccum) {
        const r = await it.next();
        if (r.done) throw new Error(`train: the training data ran out at step ${step + 1} of ${cfg.steps}; use more epochs or fewer steps`);
        micro.push(r.value.batch);
        cursor = r.value.cursor;
      }
      const lr = cosineLr(schedule, step);
      const r = trainStep(model, optimizer, micro, {
        objective: { kind: 'autoregressive', labelSmoothing: cfg.labelSmoothing || undefined }, rng, lr, clipNorm: cfg.clipNorm || undefined,
      });
      step++;
      losses.push(r.loss);
      tokens += r.tokens;
      const elapsed = (performance.now() - t0) / 1000;
      const tokensPerS = tokens / elapsed;
      await hooks.onMetrics?.({ step, split: 'train', values: { loss: r.loss, lr: r.lr, grad_norm: r.gradNorm, tokens_per_s: tokensPerS } });
      hooks.onStep?.({ step, steps: cfg.steps, loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, tokensPerS, etaS: (elapsed / (step - startStep)) * (cfg.steps - step) });
      stopped = hooks.signal?.aborted === true;
      const last = stopped ? step : cfg.steps;
      if (data.val && everyN(cfg.evalEvery, step, last)) {
        val = await evaluate(model, data.val(), cfg.evalBatches, cfg.labelSmoothing);
        await hooks.onMetrics?.({ step, split: 'val', values: { loss: val.loss, perplexity: val.perplexity } });
        log(`step ${step}: val loss ${val.loss.toFixed(4)}, perplexity ${val.perplexity.toFixed(2)}`);
      }
      if (everyN(cfg.checkpointEvery, step, last)) await save(step);
      if (stopped) break;
      // a step is synchronous and in-memory data resolves in microtasks: without a turn of the event
      // loop, signals (a stop request), timers and the metrics file writes would wait for the run's end
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    await it.return?.();
  }
  const durationMs = performance.now() - t0;
  const result: TrainResult = {
    ok: !stopped, step, startStep, losses, val, tokens, durationMs, tokensPerS: tokens / (durationMs / 1000),
    params: model.numParams(), backend: backend.name, checkpoint: checkpointDir, configHash: hash, stopped,
  };
  model.dispose();
  return result;
}

/** What `flowlm train` hands a training pipeline module's default export. */
export interface TrainPipelineOptions {
  /** `key=value` overrides of the pipeline's config (train-config.ts applyOverrides) */
  sets: string[];
  resume: boolean;
  hooks: Omit<TrainHooks, 'onMetrics' | 'resume'>;
}

/** A pipeline's result: the trainer's, plus where the run lives and anything the pipeline adds. */
export interface TrainPipelineResult extends TrainResult {
  runDir: string;
  extra?: Record<string, unknown>;
}

export type TrainPipeline = (o: TrainPipelineOptions) => Promise<TrainPipelineResult>;
