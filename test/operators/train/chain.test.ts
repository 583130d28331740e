// The training chain as a graph: a spec declaring the nn/gpt, nn/adamw and nn/trainer resources and the
// train/* operators (shard-batches -> forward-backward -> all-reduce -> optimizer-step -> evaluate ->
// checkpoint -> metrics-sink) over real shards, run by the executor, gives the run the reference loop
// gives (test/nn/reference-trainer.ts: the same losses bit for bit, validation, checkpoints and
// parameters), also as two ranks joined by memoryGroup(2) against world size 1 with accumulation; a
// stop request ends the run after the current step with a checkpoint and an evaluation; and the credit
// ledger paces the chain one optimizer step at a time.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Schema } from 'apache-arrow';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardTrainData } from '../../../operators/train/shard-data.ts';
import { mapBatch } from '../../../src/core/map-batch.ts';
import { defineOperator } from '../../../src/core/operator.ts';
import type { PipelineSpecInput } from '../../../src/graph/spec.ts';
import { validatePipeline } from '../../../src/graph/validate.ts';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { findLatest } from '../../../src/nn/checkpoint/index.ts';
import { stepMetaOf } from '../../../src/nn/train/step-batches.ts';
import { trainConfig, type TrainConfig } from '../../../src/nn/train/train-config.ts';
import { Trainer } from '../../../src/nn/train/trainer-handle.ts';
import type { StepProgress, TrainPipelineResult, TrainResult } from '../../../src/nn/train/trainer.ts';
import type { Collective } from '../../../src/runtime/collectives/collective.ts';
import { memoryGroup } from '../../../src/runtime/collectives/memory-transport.ts';
import { runPipeline, type RunResult } from '../../../src/runtime/run.ts';
import { physicalPlan } from '../../../src/scheduler/physical-plan.ts';
import type { PhysicalPlan } from '../../../src/scheduler/plan-types.ts';
import { writeTrainShards } from '../../fixtures/train-shards.ts';
import { train } from '../../nn/reference-trainer.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-train-chain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const shards = join(tmp, 'shards');
const STEPS = 6;

const MODEL = { vocabSize: 50257, contextLength: 32, nLayer: 1, nHead: 2, dModel: 16, dropout: 0.1 };
const LR = { max: 1e-2, min: 1e-3, warmupSteps: 2 };
const TRAINER = { batchSize: 4, steps: STEPS, evalEvery: 3, evalBatches: 2, checkpointEvery: 3, keepLast: 5, seed: 3 };
const DATA = { holdoutRows: 16, seqLen: 24 };

/** The reference loop's config: what the graph's resources and data node say, as one TrainConfig. */
const refConfig = (runDir: string, more: Record<string, unknown> = {}): TrainConfig =>
  trainConfig({
    runDir,
    model: MODEL,
    data: { train: shards, ...DATA },
    lr: LR,
    ...TRAINER,
    ...more,
  });

/** Each batch passing a probe, with what the run directory held at that moment. */
interface ProbeEvent {
  at: string;
  step: number;
  metricsStep: number;
  checkpointStep: number;
}
const probeEvents: ProbeEvent[] = [];

/** The last step with a train/loss row in a run's metrics.jsonl (0: none yet). */
function lastLoggedStep(runDir: string): number {
  const file = join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { step: number; split: string; name: string })
    .filter((r) => r.split === 'train' && r.name === 'loss')
    .reduce((m, r) => Math.max(m, r.step), 0);
}
const lastCheckpointStep = (runDir: string) => {
  const file = join(runDir, 'latest.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { step: number }).step : 0;
};

/** A pass-through test operator that records the step of each batch reaching it. */
const stepProbe = defineOperator({
  id: 'test/step-probe',
  description:
    "record the step of each batch passing this point of the training chain, and the run directory's state then",
  config: z.object({ at: z.string(), runDir: z.string() }),
  input: () => new Schema([]),
  passthrough: true,
  output: () => new Schema([]),
  make: (cfg, ctx) =>
    mapBatch(
      (b) => {
        probeEvents.push({
          at: cfg.at,
          step: stepMetaOf(b, ctx.nodeId).step,
          metricsStep: lastLoggedStep(cfg.runDir),
          checkpointStep: lastCheckpointStep(cfg.runDir),
        });
        return b;
      },
      { ctx },
    ),
});

interface ChainOptions {
  trainer?: Record<string, unknown>;
  optimizer?: Record<string, unknown>;
  /** the pipeline's credit budget (the data source's cap applies on top) */
  maxInFlight?: number;
  /** probes before forward-backward ("rows") and between checkpoint and metrics ("checkpointed") */
  probes?: boolean;
}

/** The training graph as a spec object, operators named by registry id as in pipelines/train-tiny.json. */
function chainSpec(runDir: string, o: ChainOptions = {}): PipelineSpecInput {
  const t = { trainer: 'trainer' };
  const probe = (id: string) => (o.probes ? [{ id, op: stepProbe, config: { at: id, runDir } }] : []);
  return {
    name: 'train-chain-test',
    ...(o.maxInFlight ? { budget: { maxInFlight: o.maxInFlight } } : {}),
    resources: {
      model: { kind: 'nn/gpt', config: MODEL },
      optimizer: { kind: 'nn/adamw', config: { lr: LR, ...o.optimizer } },
      trainer: {
        kind: 'nn/trainer',
        config: { model: 'model', optimizer: 'optimizer', runDir, ...TRAINER, ...o.trainer },
      },
    },
    steps: [
      { id: 'data', op: 'train/shard-batches', config: { ...t, dir: shards, ...DATA } },
      ...probe('rows'),
      { id: 'forward-backward', op: 'train/forward-backward', config: t },
      { id: 'all-reduce', op: 'train/all-reduce', config: t },
      { id: 'optimizer-step', op: 'train/optimizer-step', config: t },
      { id: 'evaluate', op: 'train/evaluate', config: t },
      { id: 'checkpoint', op: 'train/checkpoint', config: t },
      ...probe('checkpointed'),
      { id: 'metrics', op: 'train/metrics-sink', config: t },
    ],
  };
}

interface RankOptions {
  rank?: number;
  worldSize?: number;
  group?: Collective;
  plan?: PhysicalPlan;
  stop?: AbortSignal;
  onStep?: (p: StepProgress) => void;
  resume?: boolean;
}
interface ChainRun {
  run: RunResult;
  train: TrainPipelineResult;
}

/** Runs one rank of the graph; the trainer's result is taken before its resources are disposed. */
async function runChain(spec: PipelineSpecInput, o: RankOptions = {}): Promise<ChainRun> {
  const resolved = await validatePipeline(spec);
  let trained: TrainPipelineResult | undefined;
  const run = await runPipeline(resolved, {
    plan: o.plan,
    log: () => undefined,
    scope: {
      rank: o.rank ?? 0,
      worldSize: o.worldSize ?? 1,
      group: o.group,
      resume: o.resume,
      hooks: { stop: o.stop, onStep: o.onStep as ((p: unknown) => void) | undefined },
    },
    onResources: (built) => {
      const t = built.get('trainer');
      if (t instanceof Trainer) trained = t.result();
    },
  });
  // a failed rank would leave its peers waiting in their next collective
  if (!run.ok) o.group?.abort(new Error(`rank ${o.rank ?? 0} failed: ${run.error?.message}`));
  expect(run.ok, run.error?.message).toBe(true);
  expect(trained, 'the trainer resource was opened and ran').toBeDefined();
  return { run, train: trained! };
}

/** Metrics by split/name, each a list ordered by step, from a run's metrics.jsonl. */
function metricsOf(runDir: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { split: string; name: string; value: number };
    (out[`${r.split}/${r.name}`] ??= []).push(r.value);
  }
  return out;
}
const fileSums = (stepDir: string) =>
  (JSON.parse(readFileSync(join(stepDir, 'state.json'), 'utf8')) as { files: Record<string, { sha256: string }> })
    .files;
const sinkFiles = (r: RunResult) => r.sinks.flatMap((s) => s.files.map((f) => f.split('/').pop()));

let ref: TrainResult;
let refMetrics: Record<string, number[]>;
beforeAll(async () => {
  await initBackend({ announce: false });
  await writeTrainShards(shards, 4, 32, 64);
  const c = refConfig(join(tmp, 'ref'), { gradAccum: 2 });
  const reports: Record<string, number[]> = {};
  ref = await train(c, shardTrainData(c), {
    onMetrics: (m) => {
      for (const [k, v] of Object.entries(m.values)) (reports[`${m.split}/${k}`] ??= []).push(v);
    },
  });
  refMetrics = reports;
  expect(ref.losses).toHaveLength(STEPS);
}, 120_000);

describe('training chain as a graph (operators/train)', () => {
  it('gives the losses, validation, checkpoints and parameters of the reference loop', async () => {
    const dir = join(tmp, 'chain');
    const { run, train: r } = await runChain(chainSpec(dir, { trainer: { gradAccum: 2 } }));
    expect(sinkFiles(run)).toEqual(['metrics.jsonl', 'metrics.parquet']);
    expect(r).toMatchObject({ ok: true, step: STEPS, startStep: 0, stopped: false, runDir: dir });
    // the resources and the data node make exactly the reference's training config
    expect(r.configHash).toBe(ref.configHash);
    expect(r.losses).toEqual(ref.losses);
    expect(r.paramsSha256).toBe(ref.paramsSha256);
    const m = metricsOf(dir);
    expect(m['train/loss']).toEqual(ref.losses);
    expect(m['train/grad_norm']).toEqual(refMetrics['train/grad_norm']);
    expect(m['val/loss']).toEqual(refMetrics['val/loss']);
    expect(m['val/loss']).toHaveLength(2); // steps 3 and 6
    // gpt2 byte lengths of the targets: a few bytes per token, so fewer bits per byte than nats per token
    expect(m['val/bits_per_byte']).toHaveLength(2);
    m['val/bits_per_byte']!.forEach((b, i) => expect(b).toBeLessThan(m['val/loss']![i]! / Math.LN2));
    for (const step of ['step-000003', 'step-000006'])
      expect(fileSums(join(dir, step))).toEqual(fileSums(join(tmp, 'ref', step)));
  }, 120_000);

  it("as two ranks over memoryGroup(2), gives world size 1's losses with accumulation 2", async () => {
    const dir = join(tmp, 'chain-ws2');
    const spec = chainSpec(dir, { trainer: { gradAccum: 1 }, optimizer: { zero: true } });
    // the plan places evaluate and metrics on rank 0 alone, the rest of the chain on both ranks
    const plan = physicalPlan('chain.test', await validatePipeline(spec), {
      kind: 'cpu',
      devices: [0, 1].map((index) => ({ kind: 'cpu' as const, index, label: `cpu:${index}` })),
    });
    expect(plan.nodes.filter((n) => n.ranks.length === 1).map((n) => n.id)).toEqual(['evaluate', 'metrics']);
    const runs = await Promise.all(
      memoryGroup(2).map((group, rank) => runChain(spec, { rank, worldSize: 2, group, plan })),
    );
    const m = metricsOf(dir);
    const diff = Math.max(...m['train/loss']!.map((l, i) => Math.abs(l - ref.losses[i]!)));
    console.log(`training chain at world size 2 (ZeRO-1): max loss diff vs world size 1 with accumulation 2: ${diff}`);
    expect(m['train/loss']).toHaveLength(STEPS);
    expect(diff).toBeLessThan(1e-5);
    expect(m['val/loss']).toHaveLength(2);
    expect(sinkFiles(runs[0]!.run)).toEqual(['metrics.jsonl', 'metrics.parquet']);
    expect(sinkFiles(runs[1]!.run)).toEqual([]); // rank 1 drops the metrics: no files of its own
    for (const { train: r } of runs) expect(r).toMatchObject({ ok: true, step: STEPS });
    // every rank stepped its optimizer identically
    expect(runs[1]!.train.paramsSha256).toBe(runs[0]!.train.paramsSha256);
    expect(runs[1]!.train.losses).toEqual(runs[0]!.train.losses);
  }, 120_000);

  it('a stop request ends the run after the current step, with a checkpoint and an evaluation', async () => {
    const dir = join(tmp, 'chain-stop');
    const stop = new AbortController();
    const { run, train: r } = await runChain(
      chainSpec(dir, { trainer: { gradAccum: 2, checkpointEvery: 0, evalEvery: 0 } }),
      {
        stop: stop.signal,
        // as SIGINT would, arriving after step 1's stop check: the run stops after step 2
        onStep: (p) => {
          if (p.step === 1) stop.abort();
        },
      },
    );
    expect(run.ok).toBe(true);
    expect(r).toMatchObject({ ok: false, stopped: true, step: 2, startStep: 0 });
    expect(r.losses).toEqual(ref.losses.slice(0, 2));
    const m = metricsOf(dir);
    expect(m['train/loss']).toEqual(ref.losses.slice(0, 2));
    expect(m['val/loss']).toHaveLength(1);
    expect((await findLatest(dir))?.step).toBe(2);
    expect(r.checkpoint).toMatch(/step-000002$/);
    // the source read no rows past the stopped step
    expect(run.nodes.data!.batchesOut).toBe(2);
  }, 120_000);

  it("a kill between a checkpoint and its metrics line: the resumed run puts the checkpoint's rows back", async () => {
    const dir = join(tmp, 'chain-window');
    const spec = chainSpec(dir, { trainer: { gradAccum: 2 } });
    const stop = new AbortController();
    // stopped after step 3, which is checkpointed (checkpointEvery 3)
    await runChain(spec, { stop: stop.signal, onStep: (p) => p.step === 2 && stop.abort() });
    expect((await findLatest(dir))?.step).toBe(3);
    // the log as a kill right after the checkpoint of step 3 leaves it: without step 3's rows
    const log = join(dir, 'metrics.jsonl');
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    writeFileSync(log, `${lines.filter((l) => (JSON.parse(l) as { step: number }).step !== 3).join('\n')}\n`);
    expect(metricsOf(dir)['train/loss']).toEqual(ref.losses.slice(0, 2));
    const { train: r } = await runChain(spec, { resume: true });
    expect(r).toMatchObject({ step: STEPS, startStep: 3 });
    const m = metricsOf(dir);
    expect(m['train/loss']).toEqual(ref.losses);
    expect(m['train/grad_norm']).toEqual(refMetrics['train/grad_norm']);
    expect(m['val/loss']).toEqual(refMetrics['val/loss']);
  }, 120_000);

  it('the credit ledger paces the chain one step at a time, whatever the pipeline budget', async () => {
    const dir = join(tmp, 'chain-paced');
    probeEvents.length = 0;
    const { run, train: r } = await runChain(
      chainSpec(dir, { trainer: { gradAccum: 2, checkpointEvery: 1, evalEvery: 2 }, maxInFlight: 16, probes: true }),
    );
    expect(r.step).toBe(STEPS);
    expect(r.losses).toEqual(ref.losses);
    expect(run.sources.data).toMatchObject({ peakInFlight: 1, inFlight: 0 });
    // step k's rows enter forward-backward only after step k - 1 was checkpointed and its metrics written
    expect(probeEvents.map((e) => `${e.at} ${e.step}`)).toEqual(
      Array.from({ length: STEPS }, (_, i) => [`rows ${i + 1}`, `checkpointed ${i + 1}`]).flat(),
    );
    for (const e of probeEvents.filter((x) => x.at === 'rows'))
      expect(e, `step ${e.step}'s rows`).toMatchObject({ metricsStep: e.step - 1, checkpointStep: e.step - 1 });
    for (const e of probeEvents.filter((x) => x.at === 'checkpointed'))
      expect(e, `step ${e.step} checkpointed`).toMatchObject({ metricsStep: e.step - 1, checkpointStep: e.step });
  }, 120_000);
});
