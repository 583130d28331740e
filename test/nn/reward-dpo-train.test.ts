// Reward-model training and DPO as objectives of the trainer (issue 14, items 4 and 6): preference
// pairs from the SpamAssassin corpus (a ham body is chosen over a spam body after the same prompt),
// tokenized with gpt2, one row of 2 x (L + 1) tokens per pair. The reward model's loss falls and its
// accuracy on the training pairs rises above chance; DPO starts at ln 2 (policy = reference) and its
// loss falls; world size 2 equals world size 1 with 2 accumulation steps; a stopped run resumes with
// the uninterrupted run's losses; configs that cannot work are refused with what to do.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainableSpecs } from '../../src/nn/adapters/trainable.ts';
import { loadCheckpoint } from '../../src/nn/checkpoint/index.ts';
import type { PreferenceEvalResult } from '../../src/nn/eval/preference-eval.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import type { Dist } from '../../src/nn/train/dist.ts';
import { splitPairRows } from '../../src/nn/train/pair-rows.ts';
import { TrainReplica } from '../../src/nn/train/replica.ts';
import { modelConfigOf, trainConfig, type TrainConfigInput } from '../../src/nn/train/train-config.ts';
import type { TrainData, TrainHooks, TrainResult } from '../../src/nn/train/trainer.ts';
import { memoryGroup } from '../../src/runtime/collectives/memory-transport.ts';
import { train } from './reference-trainer.ts';
import { batchOf, docs, half, L, PAIRS, pairs, V } from './spam-pairs.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-reward-dpo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TRAIN = 32; // the first 32 pairs train, the last 8 are held out
const BATCH = 4;
/** As in ddp.test.ts: a global step takes worldSize * accum * BATCH training pairs, rank r its micro-batches. */
const dataFor = (rank: number, worldSize: number, accum: number, rows = TRAIN): TrainData => ({
  async *train(cursor) {
    let next = typeof cursor === 'number' ? cursor : 0;
    for (;;) {
      const mine = Array.from({ length: accum }, (_, k) =>
        batchOf(Array.from({ length: BATCH }, (_, i) => (next + (rank * accum + k) * BATCH + i) % rows)),
      );
      next = (next + worldSize * accum * BATCH) % rows;
      for (const b of mine) yield { batch: b, cursor: next };
    }
  },
  async *val() {
    for (let r = TRAIN; r < PAIRS; r += BATCH) yield batchOf(Array.from({ length: BATCH }, (_, i) => r + i));
  },
});
async function* trainingPairs() {
  for (let r = 0; r < TRAIN; r += BATCH) yield batchOf(Array.from({ length: BATCH }, (_, i) => r + i));
}

const MODEL = { vocabSize: V, contextLength: L, nLayer: 1, nHead: 2, dModel: 16 };
const cfgOf = (runDir: string, more: Partial<TrainConfigInput> = {}) =>
  trainConfig({
    runDir,
    model: MODEL,
    data: { train: 'unused' },
    batchSize: BATCH,
    gradAccum: 2,
    steps: 8,
    lr: { max: 1e-2, min: 1e-3, warmupSteps: 1 },
    evalEvery: 0,
    evalBatches: 2,
    checkpointEvery: 4,
    seed: 5,
    ...more,
  });
async function runAt(worldSize: 1 | 2, c: TrainConfigInput, hooks: TrainHooks = {}): Promise<TrainResult[]> {
  const accum = 2 / worldSize;
  const cfg = trainConfig({ ...c, gradAccum: accum });
  if (worldSize === 1) return [await train(cfg, dataFor(0, 1, accum), hooks)];
  const dists: Dist[] = memoryGroup(2).map((collective, rank) => ({ rank, worldSize, collective }));
  return Promise.all(dists.map((dist) => train(cfg, dataFor(dist.rank, 2, accum), { ...hooks, dist })));
}
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
/** Stops after step 3, resumes: the losses and parameters of the uninterrupted run. */
async function resumed(c: TrainConfigInput): Promise<[TrainResult, TrainResult]> {
  const stop = new AbortController();
  const [a] = await runAt(1, c, { signal: stop.signal, onStep: (p) => p.step === 3 && stop.abort() });
  const [b] = await runAt(1, c, { resume: true });
  return [a!, b!];
}
/** Accuracy and loss of a fresh replica of `c` (its step-0 model) on the training pairs. */
async function atStart(c: TrainConfigInput): Promise<PreferenceEvalResult> {
  const rep = await TrainReplica.open(trainConfig({ ...c, runDir: join(tmp, `start-${Math.random()}`) }));
  try {
    return (await rep.evaluate(trainingPairs())) as PreferenceEvalResult;
  } finally {
    rep.dispose();
  }
}

describe('pair rows', () => {
  it('split into the chosen and rejected halves with their masks', () => {
    const { chosen, rejected } = splitPairRows(batchOf([0, 1]));
    expect(chosen).toMatchObject({ batch: 2, seqLen: L });
    expect(Array.from(chosen.inputIds.subarray(L + 1, 2 * (L + 1)))).toEqual(pairs[1]!.ids.slice(0, L + 1));
    expect(Array.from(rejected.inputIds.subarray(0, L + 1))).toEqual(pairs[0]!.ids.slice(L + 1));
    expect(Array.from(rejected.attentionMask!.subarray(0, L + 1))).toEqual(pairs[0]!.mask.slice(L + 1));
  });

  it('refuse rows of odd width, naming the width and what to do', () => {
    const odd: PackedBatch = {
      inputIds: new Int32Array(2 * 25),
      attentionMask: new Uint8Array(50),
      batch: 2,
      seqLen: 24,
    };
    expect(() => splitPairRows(odd)).toThrow(/rows hold 25 tokens .*one row per pair/);
    // an SFT row of even width: its second half starts inside the response
    const sft = half(docs[0]!.body + docs[2]!.body);
    const row = [...sft.ids, 0];
    const mask = [...sft.mask, 0];
    const even: PackedBatch = {
      inputIds: Int32Array.from(row),
      attentionMask: Uint8Array.from(mask),
      batch: 1,
      seqLen: L + 1,
    };
    expect(() => splitPairRows(even)).toThrow(
      /row 0 is not a pair row: its rejected half .* starts with a target token/,
    );
  });
});

describe('pair objective configs', () => {
  it("'reward' needs model.rewardHead, 'dpo' refuses it, both refuse data.seqLen, dpo needs a reference", async () => {
    expect(() => modelConfigOf(cfgOf('x', { objective: 'reward' }))).toThrow(/set model.rewardHead: true/);
    expect(() =>
      modelConfigOf(cfgOf('x', { objective: 'dpo', model: { ...MODEL, rewardHead: true }, init: { from: 'a' } })),
    ).toThrow(/remove model.rewardHead/);
    expect(() =>
      modelConfigOf(
        cfgOf('x', { objective: 'reward', model: { ...MODEL, rewardHead: true }, data: { train: 'u', seqLen: 8 } }),
      ),
    ).toThrow(/remove data.seqLen/);
    await expect(TrainReplica.open(cfgOf(join(tmp, 'noref'), { objective: 'dpo' }))).rejects.toThrow(
      /needs a frozen reference model: set init.from/,
    );
  });
});

describe('reward model', () => {
  const REWARD: Partial<TrainConfigInput> = {
    objective: 'reward',
    model: { ...MODEL, rewardHead: true, dropout: 0.1 },
  };
  let ref: TrainResult;
  beforeAll(async () => {
    [ref] = (await runAt(1, cfgOf(join(tmp, 'reward-ref'), REWARD))) as [TrainResult];
  }, 120_000);

  it('trains the whole model and the score head; accuracy on the training pairs rises above chance', async () => {
    const c = cfgOf(join(tmp, 'reward-long'), {
      ...REWARD,
      steps: 24,
      lr: { max: 3e-3, min: 3e-4, warmupSteps: 2 },
      evalBatches: TRAIN / BATCH,
    });
    const before = await atStart(c);
    const r = await train(trainConfig({ ...c, data: { train: 'u', val: 'u' } }), {
      ...dataFor(0, 1, 2),
      val: trainingPairs,
    });
    const after = r.val as PreferenceEvalResult;
    console.log(
      `reward model on ${TRAIN} training pairs: loss ${before.loss.toFixed(4)} -> ${after.loss.toFixed(4)}, accuracy ${before.accuracy} -> ${after.accuracy}`,
    );
    expect(before.loss).toBeCloseTo(Math.LN2, 1); // scores start near 0
    expect(after.objective).toBe('reward');
    expect(after.pairs).toBe(TRAIN);
    expect(after.loss).toBeLessThan(before.loss - 0.1);
    expect(after.accuracy).toBeGreaterThanOrEqual(0.75);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(r.losses.slice(-4))).toBeLessThan(mean(r.losses.slice(0, 4)));
    // the head is a parameter like any other: checkpointed with its optimizer state
    const ck = await loadCheckpoint(r.checkpoint!);
    expect(ck.params.get('score.weight')!.shape).toEqual([16, 1]);
    expect([...ck.optimizer.m.keys()]).toContain('score.bias');
    expect([...ck.optimizer.m.keys()]).toContain('wte.weight');
  }, 120_000);

  it('with LoRA the base is frozen: only the adapters and the head train', async () => {
    const c = cfgOf(join(tmp, 'reward-lora'), {
      ...REWARD,
      model: { ...MODEL, rewardHead: true, lora: { r: 2, alpha: 4, targets: ['attn.c_attn'] } },
      steps: 2,
    });
    const rep = await TrainReplica.open(trainConfig(c));
    try {
      const names = trainableSpecs(rep.model.specs, rep.model.config).map((s) => s.name);
      expect(names).toEqual([
        'h.0.attn.c_attn.lora_A.weight',
        'h.0.attn.c_attn.lora_B.weight',
        'score.weight',
        'score.bias',
      ]);
      const before = rep.model.getParams();
      const it = dataFor(0, 1, 2).train(null)[Symbol.asyncIterator]();
      const micro = [(await it.next()).value.batch, (await it.next()).value.batch];
      await rep.optimizerStep(await rep.allReduce(rep.forwardBackward(micro)), null);
      for (const [name, v] of rep.model.getParams())
        if (names.includes(name) && name !== 'h.0.attn.c_attn.lora_A.weight')
          expect(v, name).not.toEqual(before.get(name));
        else if (!names.includes(name)) expect(v, name).toEqual(before.get(name));
    } finally {
      rep.dispose();
    }
  });

  it('world size 2 gives world size 1 with 2 accumulation steps', async () => {
    const [r0, r1] = await runAt(2, cfgOf(join(tmp, 'reward-ws2'), REWARD));
    const diff = maxDiff(r0!.losses, ref.losses);
    console.log(`reward DDP: max loss diff world 2 vs world 1 x accumulation 2 ${diff.toExponential(2)}`);
    expect(r0!.losses).toHaveLength(8);
    expect(diff).toBeLessThanOrEqual(1e-6);
    expect(r1!.paramsSha256).toBe(r0!.paramsSha256);
  }, 60_000);

  it('resumes exactly', async () => {
    const [a, b] = await resumed(cfgOf(join(tmp, 'reward-resume'), REWARD));
    expect(a).toMatchObject({ stopped: true, step: 3 });
    expect(b).toMatchObject({ ok: true, startStep: 3, step: 8 });
    expect([...a.losses, ...b.losses]).toEqual(ref.losses);
    expect(b.paramsSha256).toBe(ref.paramsSha256);
  }, 60_000);
});

describe('DPO', () => {
  let base = '';
  let ref: TrainResult;
  let DPO: Partial<TrainConfigInput>;
  beforeAll(async () => {
    // the SFT model DPO starts from: a few causal steps on the chosen halves
    const halves: TrainData = {
      async *train(cursor) {
        let next = typeof cursor === 'number' ? cursor : 0;
        for (;;) {
          const rs = Array.from({ length: BATCH }, (_, i) => (next + i) % TRAIN);
          next = (next + BATCH) % TRAIN;
          yield { batch: splitPairRows(batchOf(rs)).chosen, cursor: next };
        }
      },
    };
    const sft = await train(cfgOf(join(tmp, 'sft'), { gradAccum: 1, steps: 4 }), halves);
    base = sft.checkpoint!;
    DPO = { objective: 'dpo', init: { from: base }, dpo: { beta: 0.5 }, lr: { max: 3e-3, min: 3e-4, warmupSteps: 1 } };
    [ref] = (await runAt(1, cfgOf(join(tmp, 'dpo-ref'), DPO))) as [TrainResult];
  }, 120_000);

  it('starts at ln 2 with policy = reference (held out: margin 0) and its loss falls', async () => {
    const start = await atStart(cfgOf('x', DPO));
    expect(start).toMatchObject({ objective: 'dpo', accuracy: 0, margin: 0 });
    expect(start.loss).toBeCloseTo(Math.LN2, 6);
    expect(Math.abs(ref.losses[0]! - Math.LN2)).toBeLessThan(1e-7); // the first step's loss, before any update
    const c = cfgOf(join(tmp, 'dpo-long'), { ...DPO, steps: 16, evalBatches: TRAIN / BATCH });
    const r = await train(trainConfig({ ...c, data: { train: 'u', val: 'u' } }), {
      ...dataFor(0, 1, 2),
      val: trainingPairs,
    });
    const after = r.val as PreferenceEvalResult;
    console.log(
      `DPO on ${TRAIN} training pairs: loss ${r.losses[0]!.toFixed(4)} -> ${after.loss.toFixed(4)}, reward accuracy ${after.accuracy}, margin ${after.margin.toFixed(4)}`,
    );
    expect(after.pairs).toBe(TRAIN);
    expect(after.loss).toBeLessThan(Math.LN2 - 0.05);
    expect(after.margin).toBeGreaterThan(0);
    expect(after.accuracy).toBeGreaterThan(0.5);
    // the reference is not trained and not checkpointed: the checkpoint holds the policy alone
    const ck = await loadCheckpoint(r.checkpoint!);
    const baseCk = await loadCheckpoint(base);
    expect([...ck.params.keys()]).toEqual([...baseCk.params.keys()]);
  }, 120_000);

  it('world size 2 gives world size 1 with 2 accumulation steps', async () => {
    const [r0, r1] = await runAt(2, cfgOf(join(tmp, 'dpo-ws2'), DPO));
    const diff = maxDiff(r0!.losses, ref.losses);
    console.log(`DPO DDP: max loss diff world 2 vs world 1 x accumulation 2 ${diff.toExponential(2)}`);
    expect(r0!.losses).toHaveLength(8);
    expect(diff).toBeLessThanOrEqual(1e-6);
    expect(r1!.paramsSha256).toBe(r0!.paramsSha256);
  }, 60_000);

  it('resumes exactly (the reference loaded again)', async () => {
    const [a, b] = await resumed(cfgOf(join(tmp, 'dpo-resume'), DPO));
    expect(b).toMatchObject({ ok: true, startStep: 3, step: 8 });
    expect([...a.losses, ...b.losses]).toEqual(ref.losses);
    expect(b.paramsSha256).toBe(ref.paramsSha256);
  }, 60_000);
});
