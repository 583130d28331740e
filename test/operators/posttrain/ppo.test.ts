// PPO as a graph (posttrain/ppo resource, posttrain/ppo-* operators) with a tiny random GPT (GPT-2's
// vocabulary) as the policy and another tiny GPT + ScalarHead as the reward model, saved as flowlm
// train saves checkpoints. One iteration's metrics and trained weights equal a hand-run of the library
// functions (generateTokens, sequence log-probs, rewardScores, ppoRewards, gae, ppoLoss, AdamW) on the
// same seeds, written out here row by row; several iterations run through runPipeline; a crash or a
// stop request then --resume gives the uninterrupted run's metrics exactly; every option changes them.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Schema, type RecordBatch } from 'apache-arrow';
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ppoAdvantagesOp } from '../../../operators/posttrain/ppo-advantages.ts';
import { ppoCheckpoint } from '../../../operators/posttrain/ppo-checkpoint.ts';
import { ppoMetaOf } from '../../../operators/posttrain/ppo-field.ts';
import { ppoMetrics } from '../../../operators/posttrain/ppo-metrics.ts';
import { ppoPrompts } from '../../../operators/posttrain/ppo-prompts.ts';
import { ppoRollout } from '../../../operators/posttrain/ppo-rollout.ts';
import { ppoScore } from '../../../operators/posttrain/ppo-score.ts';
import { ppoUpdateOp } from '../../../operators/posttrain/ppo-update.ts';
import ppoPipeline from '../../../pipelines/ppo.ts';
import { loadRewardModel, saveRewardHead } from '../../../operators/posttrain/reward-model-file.ts';
import { mapBatch } from '../../../src/core/map-batch.ts';
import { defineOperator } from '../../../src/core/operator.ts';
import type { PipelineSpecInput } from '../../../src/graph/spec.ts';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { loadCheckpoint, saveCheckpoint, withShapes } from '../../../src/nn/checkpoint/index.ts';
import { loadModel } from '../../../src/nn/checkpoint/load-model.ts';
import { gptConfig } from '../../../src/nn/model/config.ts';
import { Gpt } from '../../../src/nn/model/gpt.ts';
import { generateTokens } from '../../../src/nn/model/sample.ts';
import { ScalarHead } from '../../../src/nn/model/scalar-head.ts';
import { inputsOf } from '../../../src/nn/objective/loss.ts';
import { gae, ppoLoss, ppoRewards, ppoStats, sequenceKl } from '../../../src/nn/objective/ppo.ts';
import { rewardScores } from '../../../src/nn/objective/reward.ts';
import { logprobsFromHidden } from '../../../src/nn/objective/sequence-logprobs.ts';
import { AdamW } from '../../../src/nn/optim/adamw.ts';
import type { PpoConfigInput } from '../../../src/nn/ppo/ppo-config.ts';
import { Rng } from '../../../src/runtime/rng.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { metricsSchema } from '../../../src/schema/columns.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-ppo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cfg = gptConfig({ vocabSize: 50257, contextLength: 32, nLayer: 1, nHead: 2, dModel: 16 });
const gpt2 = getEncoding('gpt2');
const EOT = 50256;
const P = join(tmp, 'policy');
const R = join(tmp, 'reward');
const REF = join(tmp, 'reference');
const EOS_POLICY = join(tmp, 'eos-policy');
const PROMPTS = ['Subject: meeting moved\n', 'Subject: cheap meds\n', 'Hello', 'Dear friend, I'];

async function save(dir: string, model: Gpt): Promise<void> {
  const shapes = new Map(model.specs.map((s) => [s.name, s.shape]));
  const zeros = new Map(model.specs.map((s) => [s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1))]));
  await saveCheckpoint(dir, {
    step: 1,
    params: withShapes(model.getParams(), shapes),
    optimizer: { m: withShapes(zeros, shapes), v: withShapes(zeros, shapes), step: 1 },
    state: { rng: null, dataCursor: null, configHash: 'test', config: { encoding: 'gpt2', modelConfig: cfg } },
  });
}

beforeAll(async () => {
  await initBackend({ announce: false });
  const policy = Gpt.create(cfg, { seed: 1 });
  const rm = Gpt.create(cfg, { seed: 3 });
  const ref = Gpt.create(cfg, { seed: 2 });
  // a policy that always draws end-of-text: ln_f gives every position the hidden state u (weight 0,
  // bias u), and end-of-text's (tied) embedding row is 100 u, so its logit 100 |u|^2 dominates
  const eos = Gpt.create(cfg, { seed: 1 });
  const u = Float32Array.from({ length: 16 }, (_, i) => (i % 2 ? 1 : -1));
  const wte = eos.getParams().get('wte.weight')!;
  wte.set(
    u.map((x) => 100 * x),
    EOT * 16,
  );
  eos.setParams({ 'ln_f.weight': new Float32Array(16), 'ln_f.bias': u, 'wte.weight': wte });
  await Promise.all([save(P, policy), save(R, rm), save(REF, ref), save(EOS_POLICY, eos)]);
  ref.dispose();
  eos.dispose();
  // std 1: scores of order 1, so the advantages are not all KL
  await saveRewardHead(R, new ScalarHead(16, { kind: 'reward_head', seed: 4, std: 1 }));
  policy.dispose();
  rm.dispose();
});

const BASE = {
  policy: P,
  reward: R,
  iterations: 1,
  batchSize: 4,
  miniBatchSize: 2,
  ppoEpochs: 2,
  maxTokens: 5,
  lr: 3e-3,
  seed: 7,
  checkpointEvery: 2,
} satisfies Partial<PpoConfigInput>;

/** Crashes the run when a batch of `iteration` passes (a stand-in for SIGKILL after its update). */
const crashAt = defineOperator({
  id: 'test/ppo-crash',
  description: 'throws at an iteration',
  config: z.object({ iteration: z.number().int() }),
  input: () => metricsSchema(),
  passthrough: true,
  output: () => metricsSchema(),
  make: (c, ctx) =>
    mapBatch((b: RecordBatch) => {
      if (ppoMetaOf(b, ctx.nodeId).iteration === c.iteration) throw new Error('simulated crash');
      return b;
    }),
});

/** Calls `fn` when a batch of `iteration` passes the rollout (before that iteration's update). */
const onIteration = (iteration: number, fn: () => void) =>
  defineOperator({
    id: 'test/ppo-probe',
    description: 'calls back at an iteration',
    config: z.object({}),
    input: () => new Schema([]),
    passthrough: true,
    output: () => new Schema([]),
    make: (_c, ctx) =>
      mapBatch((b: RecordBatch) => {
        if (ppoMetaOf(b, ctx.nodeId).iteration === iteration) fn();
        return b;
      }),
  });

type Step = NonNullable<PipelineSpecInput['steps']>[number];

function spec(runDir: string, more: Partial<PpoConfigInput> = {}, extra: { after: string; step: Step }[] = []) {
  const steps: Step[] = [
    { id: 'prompts', op: ppoPrompts, config: { ppo: 'ppo', prompts: PROMPTS } },
    { id: 'rollout', op: ppoRollout, config: { ppo: 'ppo' } },
    { id: 'score', op: ppoScore, config: { ppo: 'ppo' } },
    { id: 'advantages', op: ppoAdvantagesOp, config: { ppo: 'ppo' } },
    { id: 'update', op: ppoUpdateOp, config: { ppo: 'ppo' } },
    { id: 'checkpoint', op: ppoCheckpoint, config: { ppo: 'ppo' } },
    { id: 'metrics', op: ppoMetrics, config: { ppo: 'ppo' } },
  ];
  for (const e of extra) steps.splice(steps.findIndex((s) => s.id === e.after) + 1, 0, e.step);
  return {
    name: 'ppo-test',
    resources: { ppo: { kind: 'posttrain/ppo', config: { ...BASE, runDir, ...more } } },
    steps,
  } satisfies PipelineSpecInput;
}

async function run(s: PipelineSpecInput, o: { resume?: boolean; stop?: AbortSignal } = {}) {
  return runPipeline(s, { log: () => undefined, scope: { resume: o.resume ?? false, hooks: { stop: o.stop } } });
}

/** metrics.jsonl as iteration -> name -> value, and the iterations in the order logged. */
function metricsOf(runDir: string) {
  const by: Record<number, Record<string, number>> = {};
  const order: number[] = [];
  for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { step: number; name: string; value: number };
    if (!by[r.step]) order.push(r.step);
    (by[r.step] ??= {})[r.name] = r.value;
  }
  return { by, order };
}

let counter = 0;
const dirFor = (name: string) => join(tmp, `${name}-${counter++}`);

async function metricsFor(more: Partial<PpoConfigInput>) {
  const dir = dirFor('opt');
  const r = await run(spec(dir, more));
  expect(r.ok, r.error?.message).toBe(true);
  return metricsOf(dir).by;
}

describe('posttrain/ppo', () => {
  it("one iteration's metrics and weights equal a hand-run of the library functions", async () => {
    const dir = dirFor('one');
    const r = await run(spec(dir));
    expect(r.ok, r.error?.message).toBe(true);
    const got = metricsOf(dir).by[1]!;
    const want = await handRun();
    for (const k of Object.keys(want.metrics)) expect(got[k], k).toBe(want.metrics[k]!);
    // the checkpoint's policy is the hand-run's, trained
    const trained = (await loadModel(dir)).model.getParams();
    let maxDiff = 0;
    let moved = 0;
    const start = (await loadModel(P)).model.getParams();
    for (const [name, v] of want.params) {
      const t = trained.get(name)!;
      for (let i = 0; i < v.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(t[i]! - v[i]!));
        moved = Math.max(moved, Math.abs(t[i]! - start.get(name)![i]!));
      }
    }
    expect(moved).toBeGreaterThan(1e-3);
    expect(maxDiff).toBe(0);
  });

  it('pipelines/ppo.ts runs as a spec (its models and sizes replaced)', async () => {
    const dir = dirFor('pipeline');
    const resources = structuredClone(ppoPipeline.resources) as {
      ppo: { kind: string; config: Record<string, unknown> };
    };
    Object.assign(resources.ppo.config, {
      ...{ policy: P, reward: R, runDir: dir },
      ...{ iterations: 2, maxTokens: 4, batchSize: 2, miniBatchSize: 1, ppoEpochs: 1 },
    });
    const r = await run({ ...ppoPipeline, resources } as PipelineSpecInput);
    expect(r.ok, r.error?.message).toBe(true);
    expect(metricsOf(dir).order).toEqual([1, 2]);
    expect(existsSync(join(dir, 'step-000002'))).toBe(true);
  });

  it('runs iterations through the graph; a crash or a stop request then --resume gives the same metrics', async () => {
    // 3 of the 4 prompts per iteration: each iteration starts elsewhere in the list (the cursor matters)
    const more = { iterations: 4, checkpointEvery: 2, batchSize: 3, klTarget: 0.01, klHorizon: 10 };
    const full = dirFor('full');
    const a = await run(spec(full, more));
    expect(a.ok, a.error?.message).toBe(true);
    const ref = metricsOf(full);
    expect(ref.order).toEqual([1, 2, 3, 4]);
    // the policy moves away from the reference: KL 0 at iteration 1 only
    expect(ref.by[1]!.kl).toBe(0);
    for (const i of [2, 3, 4]) expect(ref.by[i]!.kl).not.toBe(0);
    expect(existsSync(join(full, 'metrics.parquet'))).toBe(true);
    expect(
      readdirSync(full)
        .filter((d) => d.startsWith('step-'))
        .sort(),
    ).toEqual(['step-000002', 'step-000004']);

    // killed during iteration 3 (after its update, before any checkpoint of it): resumes from 2
    const crashed = dirFor('crash');
    const c = await run(
      spec(crashed, more, [{ after: 'update', step: { id: 'crash', op: crashAt, config: { iteration: 3 } } }]),
    );
    expect(c.ok).toBe(false);
    expect(c.error?.message).toMatch(/simulated crash/);
    const resumed = await run(spec(crashed, more), { resume: true });
    expect(resumed.ok, resumed.error?.message).toBe(true);
    const after = metricsOf(crashed);
    expect(after.order).toEqual([1, 2, 3, 4]);
    expect(after.by).toEqual(ref.by);

    // a stop request during iteration 2: the run ends after it with a checkpoint, and resumes at 3
    const stopped = dirFor('stop');
    const stop = new AbortController();
    const s1 = await run(
      spec(stopped, more, [
        { after: 'rollout', step: { id: 'probe', op: onIteration(2, () => stop.abort()), config: {} } },
      ]),
      { stop: stop.signal },
    );
    expect(s1.ok, s1.error?.message).toBe(true);
    expect(metricsOf(stopped).order).toEqual([1, 2]);
    expect(existsSync(join(stopped, 'step-000002'))).toBe(true);
    const s2 = await run(spec(stopped, more), { resume: true });
    expect(s2.ok, s2.error?.message).toBe(true);
    expect(metricsOf(stopped).by).toEqual(ref.by);
    // resuming under another configuration is refused; a fresh run in a used directory too
    const bad = await run(spec(stopped, { ...more, cliprange: 0.1 }), { resume: true });
    expect(bad.error?.message).toMatch(/another configuration/);
    const again = await run(spec(stopped, more));
    expect(again.error?.message).toMatch(/already holds checkpoints/);
  });

  describe('every option changes the run', () => {
    let base: Record<number, Record<string, number>>;
    beforeAll(async () => {
      base = await metricsFor({ iterations: 2 });
    });
    const differ = (a: Record<string, number>, b: Record<string, number>, keys: string[]) =>
      keys.filter((k) => a[k] !== b[k]);

    it('ppoEpochs: more passes, other minibatch means', async () => {
      const m = await metricsFor({ iterations: 2, ppoEpochs: 1 });
      expect(m[1]!.score).toBe(base[1]!.score); // the same rollouts
      expect(differ(m[1]!, base[1]!, ['policy_loss', 'value_loss', 'clipfrac'])).not.toEqual([]);
    });
    it('cliprange: a narrower clip clips more', async () => {
      const m = await metricsFor({ iterations: 2, cliprange: 0.01 });
      expect(m[1]!.clipfrac).toBeGreaterThan(base[1]!.clipfrac!);
    });
    it('klCoef and klTarget: the penalty and its adaptation', async () => {
      const zero = await metricsFor({ iterations: 2, klCoef: 0 });
      expect(zero[2]!.kl_coef).toBe(0);
      // iteration 2's rewards carry the KL of iteration 1's update: another coefficient, other returns
      expect(zero[2]!.value_loss).not.toBe(base[2]!.value_loss);
      const adaptive = await metricsFor({ iterations: 3, klTarget: 1e-6, klHorizon: 10 });
      // iteration 1's KL is 0 (policy = reference), below target: the coefficient shrinks by the clipped
      // error 0.2 x batch 4 / horizon 10; iteration 2's KL is above it: it grows by as much
      expect(adaptive[1]!.kl_coef).toBe(0.2);
      expect(adaptive[2]!.kl_coef).toBeCloseTo(0.2 * (1 - (0.2 * 4) / 10), 12);
      expect(adaptive[3]!.kl_coef).toBeCloseTo(0.2 * (1 - (0.2 * 4) / 10) * (1 + (0.2 * 4) / 10), 12);
      expect(base[2]!.kl_coef).toBe(0.2);
    });
    it('gamma and lambda: other advantages and returns', async () => {
      const g = await metricsFor({ iterations: 1, gamma: 0.5 });
      const l = await metricsFor({ iterations: 1, lambda: 0.5 });
      for (const m of [g, l]) {
        expect(m[1]!.score).toBe(base[1]!.score);
        expect(m[1]!.value_loss).not.toBe(base[1]!.value_loss);
      }
      expect(g[1]!.value_loss).not.toBe(l[1]!.value_loss);
    });
    it('batchSize: rows per iteration and the prompts of the next', async () => {
      const m = await metricsFor({ iterations: 2, batchSize: 2, miniBatchSize: 1 });
      expect(m[1]!.score).not.toBe(base[1]!.score);
      // with 2 of the 4 prompts per iteration, iteration 2 scores the other two
      expect(m[2]!.score).not.toBe(m[1]!.score);
    });

    // each option against the base run's first iteration: the metrics it must move
    const cases: Array<[string, Partial<PpoConfigInput>, string[]]> = [
      ['temperature', { temperature: 0.5 }, ['score', 'entropy']],
      ['topK', { topK: 3 }, ['score']],
      ['maxTokens', { maxTokens: 3 }, ['response_length', 'score']],
      ['vfCoef', { vfCoef: 1 }, ['policy_loss', 'value_loss']],
      ['cliprangeValue', { cliprangeValue: 0.01 }, ['vf_clipfrac', 'value_loss']],
      ['whiten', { whiten: false }, ['policy_loss']],
      ['miniBatchSize', { miniBatchSize: 4 }, ['policy_loss', 'value_loss']],
      ['lr', { lr: 1e-4 }, ['approx_kl', 'clipfrac']],
      ['scoreEos', { scoreEos: false }, ['score']],
      ['clipNorm', { clipNorm: 0.01 }, ['approx_kl', 'value_loss']],
      ['seed', { seed: 8 }, ['score', 'value_loss']],
    ];
    for (const [name, more, keys] of cases)
      it(`${name}: changes ${keys.join(', ')}`, async () => {
        const m = await metricsFor({ iterations: 1, ...more });
        for (const k of keys) expect(m[1]![k], k).not.toBe(base[1]![k]);
      });

    it('weightDecay: decays the weights (against the same lr without it)', async () => {
      const m = await metricsFor({ iterations: 1, weightDecay: 0.5, lr: 3e-2 });
      const plain = await metricsFor({ iterations: 1, lr: 3e-2 });
      expect(m[1]!.approx_kl).not.toBe(plain[1]!.approx_kl);
    });

    it('klPenalty: another KL estimate of the same rollouts', async () => {
      const m = await metricsFor({ iterations: 2, klPenalty: 'mse' });
      expect(m[2]!.kl).not.toBe(base[2]!.kl);
      // 0.5 d^2 summed: non-negative
      expect(m[2]!.kl).toBeGreaterThan(0);
    });

    it('reference: another frozen model, KL from the first iteration', async () => {
      const m = await metricsFor({ iterations: 1, reference: REF });
      expect(base[1]!.kl).toBe(0);
      expect(m[1]!.kl).not.toBe(0);
      expect(m[1]!.score).toBe(base[1]!.score);
    });

    it('stopAtEos: a response ends at end-of-text, kept as its last token', async () => {
      const stops = await metricsFor({ iterations: 1, policy: EOS_POLICY, reference: P });
      const runs = await metricsFor({ iterations: 1, policy: EOS_POLICY, reference: P, stopAtEos: false });
      expect(stops[1]!.response_length).toBe(1);
      expect(runs[1]!.response_length).toBe(BASE.maxTokens);
    });

    it('lora: only the adapters and the value head train; the base stays as it was', async () => {
      const dir = dirFor('lora');
      const r = await run(spec(dir, { iterations: 1, lora: { r: 2, targets: ['attn.c_attn'] } }));
      expect(r.ok, r.error?.message).toBe(true);
      const ck = await loadCheckpoint(dir);
      expect([...ck.optimizer.m.keys()].sort()).toEqual(
        [
          'h.0.attn.c_attn.lora_A.weight',
          'h.0.attn.c_attn.lora_B.weight',
          'value_head.bias',
          'value_head.weight',
        ].sort(),
      );
      const start = (await loadModel(P)).model.getParams();
      const trained = (await loadModel(dir)).model;
      expect(trained.config.lora?.r).toBe(2);
      const after = trained.getParams();
      for (const name of ['h.0.attn.c_attn.weight', 'wte.weight', 'ln_f.weight'])
        expect(Buffer.from(after.get(name)!.buffer).equals(Buffer.from(start.get(name)!.buffer)), name).toBe(true);
      // B starts at zero (PEFT): trained, it is not
      expect(after.get('h.0.attn.c_attn.lora_B.weight')!.some((x) => x !== 0)).toBe(true);
    });
  });
});

/** Iteration 1 of BASE by hand: each row alone for the rollout quantities and scores. */
async function handRun() {
  const policy = (await loadModel(P)).model;
  const reference = (await loadModel(P)).model;
  const rm = await loadRewardModel(R);
  const head = new ScalarHead(16, { kind: 'value_head', seed: BASE.seed });
  const rng = new Rng(BASE.seed);
  const prompts = PROMPTS.map((p) => gpt2.encode(p, [], []));
  const responses = prompts.map((p) => {
    const r = generateTokens(policy, p, { maxTokens: BASE.maxTokens, temperature: 1, stopToken: EOT }, rng);
    return r.length < BASE.maxTokens ? [...r, EOT] : r;
  });
  const B = prompts.length;
  const T = Math.max(...responses.map((r) => r.length));
  // one row, no padding: log p of each response token and the value before it
  const rowOf = (m: Gpt, b: number, withHead: boolean) =>
    tf.tidy(() => {
      const p = prompts[b]!;
      const ids = Int32Array.from([...p, ...responses[b]!]);
      const rows = { inputIds: ids, batch: 1, seqLen: ids.length - 1 };
      const mask = new Float32Array(ids.length).fill(1, p.length);
      const h = m.hidden(inputsOf(rows));
      const lp = logprobsFromHidden(h, m.headMatrix(), rows, mask)
        .tokens.dataSync()
        .slice(p.length - 1);
      const v = withHead
        ? head
            .values(h)
            .dataSync()
            .slice(p.length - 1)
        : new Float32Array(0);
      return { lp: Float32Array.from(lp), v: Float32Array.from(v) };
    });
  const lay = (rowsOf: (b: number) => ArrayLike<number>) => {
    const out = new Float64Array(B * T);
    for (let b = 0; b < B; b++) out.set(rowsOf(b), b * T);
    return out;
  };
  const pol = prompts.map((_, b) => rowOf(policy, b, true));
  const ref = prompts.map((_, b) => rowOf(reference, b, false));
  const mask = lay((b) => new Float64Array(responses[b]!.length).fill(1));
  const oldLp = lay((b) => pol[b]!.lp);
  const oldV = lay((b) => pol[b]!.v);
  const refLp = lay((b) => ref[b]!.lp);
  const scores = prompts.map((p, b) => {
    const row = [...p, ...responses[b]!];
    if (row.at(-1) !== EOT) row.push(EOT);
    const t = rewardScores(
      rm.model,
      rm.head,
      { ids: Int32Array.from(row), batch: 1, seqLen: row.length },
      Int32Array.of(row.length - 1),
    );
    const s = t.dataSync()[0]!;
    t.dispose();
    return s;
  });
  const shaped = ppoRewards(scores, oldLp, refLp, mask, B, T, 0.2);
  const g = gae(shaped.rewards, oldV, mask, B, T, { gamma: 1, lambda: 0.95 });
  // the update: two AdamWs (policy, head) are one AdamW over both, parameter by parameter
  const optP = new AdamW(policy.specs, { beta1: 0.9, beta2: 0.95, weightDecay: 0 });
  const optH = new AdamW(head.specs, { beta1: 0.9, beta2: 0.95, weightDecay: 0 });
  const headHost = { param: (n: string) => head.params.get(n)! } as unknown as Gpt;
  const o = { cliprange: 0.2, cliprangeValue: 0.2, vfCoef: 0.1 };
  const sums: Record<string, number> = {};
  let n = 0;
  for (let e = 0; e < BASE.ppoEpochs; e++) {
    const order = rng.shuffle([0, 1, 2, 3]);
    for (let s = 0; s < B; s += BASE.miniBatchSize) {
      const pick = order.slice(s, s + BASE.miniBatchSize);
      const t = Math.max(...pick.map((b) => responses[b]!.length));
      const width = Math.max(...pick.map((b) => prompts[b]!.length + responses[b]!.length));
      const ids = new Int32Array(pick.length * width);
      const rmask = new Float32Array(pick.length * width);
      const idx = new Int32Array(pick.length * t);
      const sub = (a: Float64Array) =>
        Float64Array.from({ length: pick.length * t }, (_, i) => a[pick[Math.floor(i / t)]! * T + (i % t)]!);
      const m = Float64Array.from({ length: pick.length * t }, (_, i) =>
        i % t < responses[pick[Math.floor(i / t)]!]!.length ? 1 : 0,
      );
      pick.forEach((b, k) => {
        const row = [...prompts[b]!, ...responses[b]!];
        ids.set(row, k * width);
        rmask.fill(1, k * width + prompts[b]!.length, k * width + row.length);
        for (let j = 0; j < responses[b]!.length; j++) idx[k * t + j] = k * (width - 1) + prompts[b]!.length + j - 1;
      });
      const rows = { inputIds: ids, batch: pick.length, seqLen: width - 1 };
      const targets = {
        oldLogprobs: sub(oldLp),
        oldValues: sub(oldV),
        advantages: sub(g.advantages),
        returns: sub(g.returns),
        mask: m,
      };
      const vars = [
        ...policy.specs.map((sp) => policy.param(sp.name)),
        ...head.specs.map((sp) => head.params.get(sp.name)!),
      ];
      let kept: tf.Tensor[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const h = policy.hidden(inputsOf(rows));
        const lp = logprobsFromHidden(h, policy.headMatrix(), rows, rmask, { entropy: true });
        const at = (x: tf.Tensor) =>
          tf.mul(tf.gather(x.reshape([-1]), tf.tensor1d(idx, 'int32')), tf.tensor1d(Float32Array.from(m)));
        const [l, v, en] = [at(lp.tokens), at(head.values(h)), at(lp.entropy!)];
        kept = [tf.keep(l), tf.keep(v), tf.keep(en)];
        return ppoLoss(l, v, targets, o).loss;
      }, vars);
      const [l, v, en] = kept.map((x) => Float32Array.from(x.dataSync()));
      const st = ppoStats(l!, v!, targets, o, en);
      for (const [k, x] of Object.entries(st)) sums[k] = (sums[k] ?? 0) + x!;
      n++;
      const flat = new Map(
        vars.map((x, i) => [
          i < policy.specs.length ? policy.specs[i]!.name : head.specs[i - policy.specs.length]!.name,
          Float32Array.from(grads[x.name]!.dataSync()),
        ]),
      );
      tf.dispose([value, ...Object.values(grads), ...kept]);
      let sq = 0;
      for (const a of flat.values()) for (const x of a) sq += x * x;
      const f = 1 / (Math.sqrt(sq) + 1e-6);
      if (f < 1) for (const a of flat.values()) for (let i = 0; i < a.length; i++) a[i]! *= f;
      const part = (specs: { name: string }[]) => new Map(specs.map((sp) => [sp.name, flat.get(sp.name)!]));
      optP.apply(policy, part(policy.specs), BASE.lr);
      optH.apply(headHost, part(head.specs), BASE.lr);
    }
  }
  const mean = (k: string) => sums[k]! / n;
  const metrics: Record<string, number> = {
    score: scores.reduce((a, b) => a + b, 0) / B,
    kl: sequenceKl(shaped.kl, B, T),
    kl_coef: 0.2,
    entropy: mean('entropy'),
    clipfrac: mean('pgClipfrac'),
    vf_clipfrac: mean('vfClipfrac'),
    value_loss: mean('vfLoss'),
    policy_loss: mean('pgLoss'),
    approx_kl: mean('approxKl'),
    response_length: responses.reduce((a, r) => a + r.length, 0) / B,
  };
  const params = policy.getParams();
  for (const x of [policy, reference, rm.model, rm.head, head]) x.dispose();
  return { metrics, params };
}
