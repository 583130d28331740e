// The pipeline step with every rank of the grid in this thread (memoryGroup links: the same ring code
// the threads and sockets run) against one device's trainStep over the same micro-batches. Dropout
// is 0 throughout (the pipeline refuses anything else). Tied head: the two wte copies' gradients are
// summed once per step (Megatron's embedding group), one device sums them per micro-batch, so the
// losses agree to float rounding (1e-6 relative); untied, every sum is in one device's order and the
// losses are its bits.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { gptConfig, type GptConfigInput } from '../../../src/nn/model/config.ts';
import { Gpt } from '../../../src/nn/model/gpt.ts';
import { AdamW } from '../../../src/nn/optim/adamw.ts';
import { closePipelineComms, pipelineComms, pipelineGroups } from '../../../src/nn/parallel/pipeline-p2p.ts';
import { createPipelineStage, stagePlan } from '../../../src/nn/parallel/pipeline-stages.ts';
import {
  pipelineTrainStep,
  type PipelineStepOptions,
  type PipelineStepResult,
} from '../../../src/nn/parallel/pipeline-step.ts';
import { trainStep, type StepResult } from '../../../src/nn/train/train-step.ts';
import type { Collective } from '../../../src/runtime/collectives/collective.ts';
import { memoryGroup } from '../../../src/runtime/collectives/memory-transport.ts';
import { ADAMW, CONFIG, microBatches, SEED, STEP } from './fixtures/pipeline-data.ts';

function reference(config: GptConfigInput, steps: number, m: number, step = STEP): StepResult[] {
  const model = Gpt.create(config, { seed: SEED });
  const opt = new AdamW(model.specs, ADAMW);
  const out: StepResult[] = [];
  for (let s = 0; s < steps; s++)
    out.push(trainStep(model, opt, microBatches(s, 0, m), { objective: { kind: 'autoregressive' }, ...step }));
  model.dispose();
  return out;
}

/** Every rank of a stages x dp grid in this thread, by grid rank. */
function makeRanks(config: GptConfigInput, stages: number, dp: number) {
  const byRank = new Map<number, Map<string, Collective>>();
  for (const g of pipelineGroups(stages, dp)) {
    const cs = memoryGroup(g.members.length);
    g.members.forEach((r, i) => {
      if (!byRank.has(r)) byRank.set(r, new Map());
      byRank.get(r)!.set(g.name, cs[i]!);
    });
  }
  return Array.from({ length: stages * dp }, (_, r) => {
    const stage = r % stages;
    const dpRank = Math.floor(r / stages);
    const st = createPipelineStage(config, stages, stage, { seed: SEED });
    const comms = pipelineComms({ stages, dp, stage, dpRank, tiedHead: config.tiedHead !== false }, byRank.get(r)!);
    return { st, comms, opt: new AdamW(st.plan.specs, ADAMW), dpRank };
  });
}

/** The grid's step results; replica d takes micro-batches d*m .. d*m+m-1. */
async function grid(
  config: GptConfigInput,
  stages: number,
  dp: number,
  steps: number,
  m: number,
  step: PipelineStepOptions = STEP,
) {
  const ranks = makeRanks(config, stages, dp);
  const results: PipelineStepResult[][] = [];
  for (let s = 0; s < steps; s++)
    results.push(
      await Promise.all(
        ranks.map((k) => pipelineTrainStep(k.st, k.opt, k.comms, microBatches(s, k.dpRank * m, m), step)),
      ),
    );
  for (const k of ranks) {
    await closePipelineComms(k.comms);
    k.st.model.dispose();
  }
  return results;
}

const rel = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);

describe('pipeline step, all ranks in one thread', () => {
  beforeAll(async () => {
    await initBackend({ announce: false, headThread: false });
  });

  it('P=2, M=4: the losses and norms of one device with 4 accumulation steps, over 20 steps', async () => {
    const steps = 20;
    const want = reference(CONFIG, steps, 4);
    // the run learns: a comparison of a model that stood still would prove little
    expect(want[steps - 1]!.loss).toBeLessThan(want[0]!.loss - 0.1);
    const before = tf.memory().numTensors;
    const got = await grid(CONFIG, 2, 1, steps, 4);
    for (let s = 0; s < steps; s++) {
      for (const r of got[s]!) expect(r.loss).toBe(got[s]![0]!.loss);
      expect(rel(got[s]![0]!.loss, want[s]!.loss), `step ${s}`).toBeLessThan(1e-6);
      expect(rel(got[s]![1]!.gradNorm, want[s]!.gradNorm), `norm, step ${s}`).toBeLessThan(1e-5);
    }
    expect(got[0]![0]!.bubble.theoretical).toBeCloseTo(1 / 5, 12);
    // nothing kept between steps: every stage input and gradient tensor was disposed
    expect(tf.memory().numTensors).toBe(before);
  });

  it('P=4 (one block per stage), M=8, and P=2 x DP=2 (4 micro-batches each) equal one device with 8', async () => {
    const steps = 4;
    const want = reference(CONFIG, steps, 8);
    const p4 = await grid(CONFIG, 4, 1, steps, 8);
    const dp2 = await grid(CONFIG, 2, 2, steps, 4);
    for (let s = 0; s < steps; s++) {
      for (const r of p4[s]!) expect(r.loss).toBe(p4[s]![0]!.loss);
      for (const r of dp2[s]!) expect(r.loss).toBe(dp2[s]![0]!.loss);
      expect(rel(p4[s]![0]!.loss, want[s]!.loss), `P=4 step ${s}`).toBeLessThan(1e-6);
      expect(rel(dp2[s]![3]!.loss, want[s]!.loss), `P=2 x DP=2 step ${s}`).toBeLessThan(1e-6);
    }
    expect(p4[0]![2]!.bubble.theoretical).toBeCloseTo(3 / 11, 12);
  });

  it('an untied head (lm_head on the last stage, no embedding group) equals one device bit for bit over 20 steps', async () => {
    const config = { ...CONFIG, tiedHead: false };
    const want = reference(config, 20, 4);
    const got = await grid(config, 2, 1, 20, 4);
    // no summed copies: every gradient is formed in one device's order, so the losses are its bits
    for (let s = 0; s < 20; s++) expect(got[s]![0]!.loss, `step ${s}`).toBe(want[s]!.loss);
  });

  it("tiedSum 'micro-batch' (wte summed in one device's order): P=2 and P=4 are one device bit for bit", async () => {
    // a learning rate at which the per-step sum drifts past 1e-6 by step 17 (3.5e-6): the order is all
    const step = { ...STEP, lr: 3e-3 };
    const want = reference(CONFIG, 20, 4, step);
    const p2 = await grid(CONFIG, 2, 1, 20, 4, { ...step, tiedSum: 'micro-batch' });
    for (let s = 0; s < 20; s++) expect(p2[s]![0]!.loss, `P=2 step ${s}`).toBe(want[s]!.loss);
    const p4 = await grid(CONFIG, 4, 1, 3, 4, { ...step, tiedSum: 'micro-batch' });
    for (let s = 0; s < 3; s++) expect(p4[s]![3]!.loss, `P=4 step ${s}`).toBe(want[s]!.loss);
  });

  it('P=1 (one stage, no sends) is one device bit for bit, the tied wte included', async () => {
    const want = reference(CONFIG, 3, 4);
    const got = await grid(CONFIG, 1, 1, 3, 4);
    for (let s = 0; s < 3; s++) expect(got[s]![0]!.loss, `step ${s}`).toBe(want[s]!.loss);
    expect(got[0]![0]!.bubble.theoretical).toBe(0);
  });

  it("a stage that fails (micro-batches of another shape than its neighbour's) fails the other too", async () => {
    const before = tf.memory().numTensors;
    const [first, second] = makeRanks(CONFIG, 2, 1);
    const short = microBatches(0, 0, 4).map((b) => ({ ...b, seqLen: 16, inputIds: b.inputIds.slice(0, 2 * 17) }));
    const runs = await Promise.allSettled([
      pipelineTrainStep(first!.st, first!.opt, first!.comms, microBatches(0, 0, 4), STEP),
      pipelineTrainStep(second!.st, second!.opt, second!.comms, short, STEP),
    ]);
    for (const r of runs) {
      expect(r.status).toBe('rejected');
      if (r.status === 'rejected')
        expect(String(r.reason)).toMatch(/rank 1 and rank 0 are out of step.* during broadcast/);
    }
    for (const k of [first!, second!]) k.st.model.dispose();
    // the inputs kept for backward passes that never came are disposed
    expect(tf.memory().numTensors).toBe(before);
  });

  it('splits blocks contiguously, embeddings first, ln_f and the head last, and refuses what it cannot run', () => {
    const cfg = gptConfig({ ...CONFIG, nLayer: 5 });
    const plans = [0, 1, 2].map((s) => stagePlan(cfg, 3, s));
    expect(plans.map((p) => p.layers)).toEqual([
      { first: 0, end: 2 },
      { first: 2, end: 4 },
      { first: 4, end: 5 },
    ]);
    const names = plans.map((p) => p.specs.map((s) => s.name).filter((n) => !n.startsWith('h.')));
    expect(names).toEqual([['wte.weight', 'wpe.weight'], [], ['wte.weight', 'ln_f.weight', 'ln_f.bias']]);
    // a stage's model holds its own parameters only, initialised as the whole model's
    const last = createPipelineStage(CONFIG, 2, 1, { seed: SEED });
    const whole = Gpt.create(CONFIG, { seed: SEED });
    expect([...last.model.params.keys()]).toEqual(last.plan.specs.map((s) => s.name));
    for (const name of ['wte.weight', 'h.3.mlp.c_fc.weight'])
      expect(last.model.param(name).dataSync()).toEqual(whole.param(name).dataSync());
    last.model.dispose();
    whole.dispose();
    expect(() => stagePlan(gptConfig({ ...CONFIG, dropout: 0.1 }), 2, 0)).toThrow(/dropout.*turn them off/);
    expect(() => stagePlan(gptConfig({ ...CONFIG, docMasking: true }), 2, 0)).toThrow(/docMasking/);
    expect(() => stagePlan(gptConfig({ ...CONFIG, lora: { r: 2 } }), 2, 0)).toThrow(/adapters/);
    expect(() => stagePlan(gptConfig(CONFIG), 5, 0)).toThrow(/stages must be an integer in \[1, nLayer = 4\]/);
  });
});
