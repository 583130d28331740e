// `flowlm train SPEC --tp N | --pp N --devices cpu:M`: a spec's training run on a grid of worker
// threads, model parallel (tensor or pipeline) x data parallel (dp = M / N). The threads run the
// engines (model-parallel-rank.ts); this thread prints rank 0's steps, writes metrics.jsonl as the
// data-parallel chain does (loss, lr, grad_norm, tokens_per_s per step; pipelines add bubble and
// bubble_theoretical), and at the end writes one unsharded checkpoint. No resume, stop-with-checkpoint
// or processes: a failing rank aborts the grid, and the run fails naming it.
import { withCurrentRun } from '../runs/current-run.ts';
import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { initBackend } from '../nn/backend/backend.ts';
import { findLatest } from '../nn/checkpoint/index.ts';
import { createPipelineThreadGrid } from '../nn/parallel/pipeline-threads.ts';
import { createGridThreadGroups } from '../nn/parallel/tensor-grid.ts';
import { modelConfigOf, configHash } from '../nn/train/train-config.ts';
import type { StepProgress, TrainPipelineResult } from '../nn/train/trainer.ts';
import { tsWorker } from '../runtime/thread-boot.ts';
import { AtomicFile } from '../runtime/files.ts';
import { ParquetWriter } from '../runtime/parquet-writer.ts';
import { metricsFromRows, type MetricRow } from '../schema/metrics.ts';
import {
  gridShape,
  modelParallelConfig,
  ModelParallelError,
  type GridShape,
  type ParallelKind,
} from './model-parallel-config.ts';
import { joinStates, writeModelParallelCheckpoint } from './model-parallel-checkpoint.ts';
import type { RankState } from './model-parallel-engines.ts';
import type { ModelParallelRankData, ModelParallelToMain } from './model-parallel-rank.ts';

const ENTRY = new URL('./model-parallel-rank.ts', import.meta.url).href;

export interface ModelParallelOptions {
  file: string;
  sets: string[];
  kind: ParallelKind;
  /** --tp or --pp */
  size: number;
  /** CPU worker threads: size x dp */
  devices: number;
  /** --micro-batches (pp) */
  micro?: number;
  hooks: { log?(line: string): void; onStep?(p: StepProgress): void };
}

export interface ModelParallelResult extends TrainPipelineResult {
  grid: { tp: number; pp: number; dp: number; microBatches?: number };
}

/** The metrics log's line (operators/train/metrics-jsonl.ts's format: non-finite values as strings). */
const metricLine = (r: MetricRow): string =>
  `${JSON.stringify({ ...r, value: Number.isFinite(r.value) ? r.value : String(r.value) })}\n`;

/** Every rank's final message; rejects with the first failure (naming the rank) after aborting the grid. */
function runGrid(
  shape: GridShape,
  data: (rank: number) => ModelParallelRankData,
  grid: { watch(w: Worker, rank: number): void; abort(err: Error): void },
  onStep: (m: Extract<ModelParallelToMain, { type: 'step' }>) => void,
  log: (line: string) => void,
): Promise<Extract<ModelParallelToMain, { type: 'done' }>[]> {
  const n = shape.size * shape.dp;
  const workers: Worker[] = [];
  const done: Extract<ModelParallelToMain, { type: 'done' }>[] = [];
  return new Promise((resolvePromise, reject) => {
    let failed = false;
    const fail = (rank: number, message: string) => {
      if (failed) return;
      failed = true;
      const err = new ModelParallelRunError(`training rank ${rank} of ${n} failed: ${message}`);
      grid.abort(err);
      // the others wake from their collectives with errors; none is waited for
      void Promise.allSettled(workers.map((w) => w.terminate())).then(() => reject(err));
    };
    for (let rank = 0; rank < n; rank++) {
      const w = tsWorker(ENTRY, { workerData: data(rank), env: { ...process.env, FLOWLM_HEAD_THREAD: '0' } });
      workers.push(w);
      grid.watch(w, rank);
      w.on('message', (m: ModelParallelToMain) => {
        if (m.type === 'log') log(m.line);
        else if (m.type === 'step') onStep(m);
        else if (m.type === 'failed') fail(m.rank, `${m.name === 'Error' ? '' : `${m.name}: `}${m.message}`);
        else {
          done.push(m);
          if (done.length === n && !failed)
            void Promise.allSettled(workers.map((x) => x.terminate())).then(() => resolvePromise(done));
        }
      });
      w.on('error', (e: Error) => fail(rank, e.message));
      w.on('exit', (code) => {
        if (!done.some((m) => m.rank === rank)) fail(rank, `its thread exited (code ${code}) before the run finished`);
      });
    }
  });
}

/** The run's metric rows as metrics.parquet, as the data-parallel metrics sink converts its log at the end. */
async function writeParquet(path: string, rows: MetricRow[]): Promise<void> {
  const file = new AtomicFile(path);
  const writer = new ParquetWriter(file, { compression: 'snappy', rowGroupRows: 65_536 });
  try {
    await writer.write(metricsFromRows(rows));
    await writer.finish();
    await file.commit();
  } catch (err) {
    await writer.abort(err);
    await file.abort();
    throw err;
  }
}

/** A rank of the grid failed (the run's outcome: exit 1, not bad usage). */
export class ModelParallelRunError extends Error {
  override readonly name = 'ModelParallelRunError';
}

export async function trainModelParallel(o: ModelParallelOptions): Promise<ModelParallelResult> {
  const cfg = await modelParallelConfig(o.file, o.sets);
  const shape = gridShape(cfg, { kind: o.kind, size: o.size, devices: o.devices, micro: o.micro });
  const latest = await findLatest(cfg.runDir);
  if (latest)
    throw new ModelParallelError(
      `${cfg.runDir} already holds checkpoint ${latest.dir}; --${o.kind} runs start fresh (no --resume): choose a new ` +
        'runDir (--set trainer.runDir=...)',
    );
  const model = modelConfigOf(cfg);
  const runDir = resolve(cfg.runDir);
  mkdirSync(runDir, { recursive: true });
  const log = await open(join(runDir, 'metrics.jsonl'), 'w');
  withCurrentRun((run) => run.setRunDir(runDir), o.hooks.log);
  const t0 = performance.now();
  let tokens = 0;
  const losses: number[] = [];
  let lastRows: MetricRow[] = [];
  const allRows: MetricRow[] = [];
  let writing = Promise.resolve();
  const onStep = (m: Extract<ModelParallelToMain, { type: 'step' }>) => {
    const r = m.report;
    tokens += r.tokens;
    losses.push(r.loss);
    const elapsed = (performance.now() - t0) / 1000;
    const tokensPerS = tokens / elapsed;
    const time = Date.now();
    const values: Record<string, number> = { loss: r.loss, lr: m.lr, grad_norm: r.gradNorm, tokens_per_s: tokensPerS };
    if (r.bubble) Object.assign(values, { bubble: r.bubble.measured, bubble_theoretical: r.bubble.theoretical });
    lastRows = Object.entries(values).map(([name, value]) => ({ step: m.step, split: 'train', name, value, time }));
    allRows.push(...lastRows);
    const text = lastRows.map(metricLine).join('');
    const rows = lastRows;
    writing = writing.then(async () => {
      await log.write(text);
      withCurrentRun((run) => run.logMetricRows(rows), o.hooks.log);
    });
    const etaS = (elapsed / m.step) * (cfg.steps - m.step);
    o.hooks.onStep?.({
      step: m.step,
      steps: cfg.steps,
      loss: r.loss,
      lr: m.lr,
      gradNorm: r.gradNorm,
      tokensPerS,
      etaS,
    });
  };
  let results;
  try {
    const tp = shape.kind === 'tp' ? createGridThreadGroups(shape.size, shape.dp) : undefined;
    const pp = shape.kind === 'pp' ? createPipelineThreadGrid(shape.size, shape.dp) : undefined;
    const base = { kind: shape.kind, size: shape.size, dp: shape.dp, micro: shape.micro, cfg };
    results = await runGrid(
      shape,
      (rank) => ({ ...base, rank, tp: tp?.handles[rank], pp: pp?.handles[rank] }),
      (tp ?? pp)!,
      onStep,
      (line) => o.hooks.log?.(line),
    );
  } finally {
    await writing;
    await log.close();
  }
  const durationMs = performance.now() - t0;
  const parts = results
    .filter((r) => r.dpRank === 0)
    .sort((a, b) => a.rank - b.rank)
    .map((r) => r.state as RankState);
  const backend = await initBackend({ announce: false, headThread: false });
  const ck = await writeModelParallelCheckpoint({
    cfg,
    model,
    state: joinStates(shape.kind, model, parts),
    cursor: results.find((r) => r.rank === 0)!.cursor,
    dp: shape.dp,
    metrics: lastRows,
  });
  o.hooks.log?.(`checkpoint ${ck.dir}`);
  await writeParquet(join(runDir, 'metrics.parquet'), allRows);
  return {
    ok: true,
    step: cfg.steps,
    startStep: 0,
    losses,
    tokens,
    durationMs,
    tokensPerS: tokens / (durationMs / 1000),
    params: ck.params,
    backend: backend.name,
    checkpoint: ck.dir,
    configHash: configHash(cfg, shape.dp),
    stopped: false,
    paramsSha256: ck.paramsSha256,
    runDir: cfg.runDir,
    grid: {
      tp: shape.kind === 'tp' ? shape.size : 1,
      pp: shape.kind === 'pp' ? shape.size : 1,
      dp: shape.dp,
      ...(shape.kind === 'pp' ? { microBatches: shape.micro } : {}),
    },
  };
}
