// `flowlm train pipelines/train-tiny.ts --tp N | --pp N`: the spec's run on a model-parallel grid of
// worker threads gives, step by step, the losses of the ordinary data-parallel command on one device
// with the same global batch (1e-6 relative), and its one checkpoint loads with loadModel holding the
// parameters of the one-device run's final checkpoint (1e-5). The reference is always the real
// `--devices cpu:1` run of the same spec and settings: no stored numbers.
// Global batch: a data-parallel step reads dp x gradAccum x batchSize rows; tp 2 x dp 2 at gradAccum 1
// therefore reads the rows cpu:1 reads at gradAccum 2 (replica k takes micro-batch k of the step).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { loadModel } from '../../src/nn/checkpoint/load-model.ts';
import { writeTrainShards } from '../fixtures/train-shards.ts';
import { flowlm, lastJson, type CliResult } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-train-mp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const shards = join(tmp, 'shards');
const STEPS = 4;
// micro preset shrunk: 2 layers (pp 2), 2 heads (tp 2), GPT-2's vocabulary (the shards' tokens), dropout 0
const SETS = [
  'model.preset="micro"',
  'model.vocabSize=50257',
  'model.contextLength=32',
  'model.dModel=32',
  'model.nHead=2',
  `data.dir=${shards}`,
  'data.seqLen=16',
  'data.holdoutRows=16',
  'trainer.batchSize=4',
  `trainer.steps=${STEPS}`,
  'trainer.checkpointEvery=100',
  'trainer.evalEvery=0',
  'trainer.evalBatches=1',
  'optimizer.lr.warmupSteps=2',
  'optimizer.lr.max=3e-3',
];
const env = { FLOWLM_HEAD_THREAD: '0' };
let runs = 0;
const train = (more: string[], sets: string[] = []): Promise<CliResult & { runDir: string }> => {
  const runDir = join(tmp, `run-${runs++}`);
  const args = [
    'train',
    'pipelines/train-tiny.ts',
    ...[...SETS, ...sets, `trainer.runDir=${runDir}`].flatMap((s) => ['--set', s]),
  ];
  return flowlm([...args, '--json', ...more], { env }).then((r) => ({ ...r, runDir }));
};

/** The train rows of metrics.jsonl by name, each a list in step order. */
function metrics(runDir: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { step: number; split: string; name: string; value: number };
    if (r.split !== 'train') continue;
    (out[r.name] ??= []).push(r.value);
  }
  return out;
}

async function finalParams(checkpoint: string): Promise<Map<string, Float32Array>> {
  const { model } = await loadModel(checkpoint);
  const p = model.getParams();
  model.dispose();
  return p;
}

/** The run matches the reference: each step's loss within 1e-6 relative, and the checkpoint's parameters.
 * Parameters: within 1e-5, but for at most 1 element in 10^4, within 1e-4. Adam's update m / sqrt(v) is
 * scale-free, so an element whose gradient is near zero at some step turns the engines' float-order
 * noise (1e-9 in the gradient) into an update difference of a fraction of lr (here 3e-3): measured,
 * 1 element of 4096 in h.1.mlp.c_proj.weight off by 1.3e-5 (tp 2) and 2.4e-5 (tp 2 x dp 2). */
async function expectSameRun(run: CliResult & { runDir: string }, ref: CliResult & { runDir: string }) {
  expect(run.code, run.stderr).toBe(0);
  const want = metrics(ref.runDir).loss!;
  const got = metrics(run.runDir).loss!;
  expect(want).toHaveLength(STEPS);
  expect(got).toHaveLength(STEPS);
  for (let s = 0; s < STEPS; s++) expect(Math.abs(got[s]! - want[s]!) / want[s]!, `step ${s + 1}`).toBeLessThan(1e-6);
  const a = await finalParams(String(lastJson(run.stdout).checkpoint));
  const b = await finalParams(String(lastJson(ref.stdout).checkpoint));
  expect([...a.keys()]).toEqual([...b.keys()]);
  let worst = 0;
  let outside = 0;
  let total = 0;
  for (const [name, v] of b) {
    const w = a.get(name)!;
    expect(w.length, name).toBe(v.length);
    total += v.length;
    for (let i = 0; i < v.length; i++) {
      const d = Math.abs(w[i]! - v[i]!);
      worst = Math.max(worst, d);
      if (d >= 1e-5) outside++;
    }
  }
  expect(outside).toBeLessThanOrEqual(total * 1e-4);
  expect(worst).toBeLessThan(1e-4);
}

let ref1: Promise<CliResult & { runDir: string }>;
let ref2: Promise<CliResult & { runDir: string }>;

beforeAll(async () => {
  await writeTrainShards(shards, 4, 32, 64);
  await initBackend({ announce: false, headThread: false });
  // the one-device references: global batch 4 rows (gradAccum 1) and 8 rows (gradAccum 2)
  ref1 = train(['--devices', 'cpu:1']);
  ref2 = train(['--devices', 'cpu:1'], ['trainer.gradAccum=2']);
  for (const r of await Promise.all([ref1, ref2])) expect(r.code, r.stderr).toBe(0);
}, 60_000);

describe('flowlm train --tp / --pp', () => {
  it('--tp 2 on cpu:2: the one-device losses, progress lines, and a checkpoint with its parameters', async () => {
    const run = await train(['--tp', '2', '--devices', 'cpu:2']);
    await expectSameRun(run, await ref1);
    expect(run.stderr).toMatch(new RegExp(`step ${STEPS}/${STEPS} \\| loss \\d`));
    expect(lastJson(run.stdout)).toMatchObject({ ok: true, step: STEPS, tp: 2, pp: 1, dp: 1, worldSize: 2 });
    expect(Object.keys(metrics(run.runDir)).sort()).toEqual(['grad_norm', 'loss', 'lr', 'tokens_per_s']);
    expect(existsSync(join(run.runDir, 'metrics.parquet'))).toBe(true);
    // the same lr schedule and gradient norms as the data-parallel trainer
    const [m, r] = [metrics(run.runDir), metrics((await ref1).runDir)];
    expect(m.lr).toEqual(r.lr);
    for (let s = 0; s < STEPS; s++)
      expect(Math.abs(m.grad_norm![s]! - r.grad_norm![s]!) / r.grad_norm![s]!).toBeLessThan(1e-5);
  }, 60_000);

  it('--tp 2 with gradAccum 2: micro-batch gradients accumulated as the one-device run does', async () => {
    await expectSameRun(await train(['--tp', '2', '--devices', 'cpu:2'], ['trainer.gradAccum=2']), await ref2);
  }, 60_000);

  it('--pp 2 --micro-batches 2 on cpu:2: the one-device losses and parameters; bubble rows in the metrics', async () => {
    // the step's 4 rows in 2 micro-batches of 2: the same mean gradient as one micro-batch of 4
    const run = await train(['--pp', '2', '--micro-batches', '2', '--devices', 'cpu:2']);
    await expectSameRun(run, await ref1);
    expect(lastJson(run.stdout)).toMatchObject({ tp: 1, pp: 2, dp: 1, microBatches: 2 });
    // (P-1)/(M+P-1) with P = 2, M = 2
    expect(metrics(run.runDir).bubble_theoretical).toEqual(Array(STEPS).fill(1 / 3));
    expect(metrics(run.runDir).bubble).toHaveLength(STEPS);
  }, 60_000);

  it('--tp 2 on cpu:4 (tp 2 x dp 2, gradAccum 1): the one-device run at gradAccum 2, the same global batch', async () => {
    const run = await train(['--tp', '2', '--devices', 'cpu:4']);
    await expectSameRun(run, await ref2);
    const ref = lastJson((await ref2).stdout);
    // the checkpoint's config hash is the data-parallel run's of the same global batch
    expect(lastJson(run.stdout)).toMatchObject({ dp: 2, tp: 2, configHash: ref.configHash, tokens: ref.tokens });
  }, 60_000);

  it('refuses bad combinations with exit 2 and a message naming the flag; a failing rank: exit 1', async () => {
    const cases: [string[], RegExp][] = [
      [['--tp', '2', '--devices', 'cpu:3'], /--tp 2 needs a multiple of 2 devices/],
      [['--tp', '3', '--devices', 'cpu:3'], /--tp 3: tensor parallelism \(tp 3\): nHead 2 must be divisible by tp/],
      [['--pp', '3', '--devices', 'cpu:3'], /--pp 3: pipeline: stages must be an integer in \[1, nLayer = 2\]/],
      [['--pp', '2', '--micro-batches', '3'], /--micro-batches 3 must divide the 4 rows/],
      [['--tp', '2', '--resume'], /--resume is not supported with --tp/],
    ];
    // and a rank that fails once the grid runs (its data) fails the run, exit 1, naming the rank
    const [failed, ...results] = await Promise.all([
      train(['--pp', '2'], ['data.seqLen=64', 'model.contextLength=64']),
      ...cases.map(([flags]) => train(flags)),
    ]);
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
    });
    expect(failed!.code, failed!.stderr).toBe(1);
    expect(failed!.stderr).toMatch(/training rank \d of 2 failed: .*data\.seqLen 64 is longer than the shards' rows/);
  }, 60_000);
});
