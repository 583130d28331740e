// The pair objectives through the training graph (train/shard-batches -> forward-backward -> all-reduce
// -> optimizer-step -> evaluate -> checkpoint -> metrics-sink, as pipelines/train-tiny.ts): preference
// pairs written as shards (one row of 2 x (L + 1) tokens per pair), read with the trainer's seeded
// shuffle and a held-out split, give the reference loop's losses bit for bit, and train/evaluate writes
// the held-out pairs' loss, accuracy and margin (reward_loss / dpo_loss, reward_accuracy, reward_margin).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { writeShards } from '../../../operators/shard/write-shards.ts';
import { shardTrainData } from '../../../operators/train/shard-data.ts';
import { defineSource } from '../../../src/core/operator.ts';
import type { PipelineSpecInput } from '../../../src/graph/spec.ts';
import { validatePipeline } from '../../../src/graph/validate.ts';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { splitPairRows } from '../../../src/nn/train/pair-rows.ts';
import { trainConfig, type TrainConfigInput } from '../../../src/nn/train/train-config.ts';
import { Trainer } from '../../../src/nn/train/trainer-handle.ts';
import type { TrainPipelineResult, TrainResult } from '../../../src/nn/train/trainer.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { train } from '../../nn/reference-trainer.ts';
import { batchOf, L, PAIRS, V } from '../../nn/spam-pairs.ts';
import { packedBatch, packedTestSchema } from '../shard/packed-corpus.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-pair-chain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const shards = join(tmp, 'pairs');
const MODEL = { vocabSize: V, contextLength: L, nLayer: 1, nHead: 2, dModel: 16 };
const LR = { max: 3e-3, min: 3e-4, warmupSteps: 1 };
const TRAINER = { batchSize: 4, gradAccum: 2, steps: 6, evalEvery: 3, evalBatches: 2, checkpointEvery: 3, seed: 9 };
const HOLDOUT = 8;

async function writePairShards(): Promise<void> {
  const width = 2 * (L + 1);
  const source = defineSource({
    id: 'test/spam-pairs',
    description: 'SpamAssassin ham-over-spam pairs, one row per pair',
    config: z.object({}),
    output: () => packedTestSchema(width - 1, true),
    async *make() {
      const b = batchOf(Array.from({ length: PAIRS }, (_, i) => i));
      const starts = Array.from({ length: PAIRS }, () => [0]);
      yield packedBatch(packedTestSchema(width - 1, true), b.inputIds, starts, b.attentionMask);
    },
  });
  const r = await runPipeline(
    {
      name: 'pair-shards',
      steps: [
        { id: 'pairs', op: source, config: {} },
        { id: 'shards', op: writeShards, config: { dir: shards, shardRows: 16, encoding: 'gpt2' } },
      ],
    },
    { log: () => undefined },
  );
  if (!r.ok) throw new Error(`pair shards: ${r.error?.message}`);
}

function spec(runDir: string, model: Record<string, unknown>, trainer: Record<string, unknown>): PipelineSpecInput {
  const t = { trainer: 'trainer' };
  return {
    name: 'pair-chain-test',
    resources: {
      model: { kind: 'nn/gpt', config: model },
      optimizer: { kind: 'nn/adamw', config: { lr: LR } },
      trainer: {
        kind: 'nn/trainer',
        config: { model: 'model', optimizer: 'optimizer', runDir, ...TRAINER, ...trainer },
      },
    },
    steps: [
      { id: 'data', op: 'train/shard-batches', config: { ...t, dir: shards, holdoutRows: HOLDOUT } },
      { id: 'forward-backward', op: 'train/forward-backward', config: t },
      { id: 'all-reduce', op: 'train/all-reduce', config: t },
      { id: 'optimizer-step', op: 'train/optimizer-step', config: t },
      { id: 'evaluate', op: 'train/evaluate', config: t },
      { id: 'checkpoint', op: 'train/checkpoint', config: t },
      { id: 'metrics', op: 'train/metrics-sink', config: t },
    ],
  };
}

async function runChain(s: PipelineSpecInput): Promise<TrainPipelineResult> {
  let trained: TrainPipelineResult | undefined;
  const run = await runPipeline(await validatePipeline(s), {
    log: () => undefined,
    onResources: (built) => {
      const t = built.get('trainer');
      if (t instanceof Trainer) trained = t.result();
    },
  });
  expect(run.ok, run.error?.message).toBe(true);
  return trained!;
}

function metricsOf(runDir: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { split: string; name: string; value: number };
    (out[`${r.split}/${r.name}`] ??= []).push(r.value);
  }
  return out;
}

/** The reference loop over the same shards, with its validation reports. */
async function reference(runDir: string, c: Partial<TrainConfigInput>) {
  const cfg = trainConfig({
    runDir,
    data: { train: shards, holdoutRows: HOLDOUT },
    lr: LR,
    ...TRAINER,
    ...c,
  } as TrainConfigInput);
  const val: Record<string, number>[] = [];
  const r = await train(cfg, shardTrainData(cfg), { onMetrics: (m) => void (m.split === 'val' && val.push(m.values)) });
  return { r, val };
}

let base = '';
beforeAll(async () => {
  await initBackend({ announce: false });
  await writePairShards();
  // DPO's starting point and reference: a few causal steps on the chosen halves
  const halves = {
    async *train(cursor: unknown) {
      let next = typeof cursor === 'number' ? cursor : 0;
      for (;;) {
        const rs = Array.from({ length: 4 }, (_, i) => (next + i) % 32);
        next = (next + 4) % 32;
        yield { batch: splitPairRows(batchOf(rs)).chosen, cursor: next };
      }
    },
  };
  const sft: TrainResult = await train(
    trainConfig({ runDir: join(tmp, 'sft'), model: MODEL, data: { train: 'u' }, batchSize: 4, steps: 3, lr: LR }),
    halves,
  );
  base = sft.checkpoint!;
}, 120_000);

describe('pair objectives as a training graph', () => {
  it("'reward': the reference loop's losses; held-out reward_loss, reward_accuracy, reward_margin", async () => {
    const model = { ...MODEL, rewardHead: true };
    const { r: ref, val } = await reference(join(tmp, 'reward-ref'), { model, objective: 'reward' });
    const dir = join(tmp, 'reward-chain');
    const r = await runChain(spec(dir, model, { objective: 'reward' }));
    expect(r).toMatchObject({ ok: true, step: 6 });
    expect(r.configHash).toBe(ref.configHash);
    expect(r.losses).toEqual(ref.losses);
    expect(r.paramsSha256).toBe(ref.paramsSha256);
    const m = metricsOf(dir);
    expect(m['val/reward_loss']).toHaveLength(2); // steps 3 and 6
    expect(m['val/reward_loss']).toEqual(val.map((v) => v.loss));
    expect(m['val/loss']).toEqual(m['val/reward_loss']);
    for (const a of m['val/reward_accuracy']!) expect([0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1]).toContain(a);
    expect(m['val/reward_margin']).toHaveLength(2);
    expect(m['val/perplexity']).toBeUndefined();
  }, 120_000);

  it("'dpo': the reference loop's losses from ln 2; held-out dpo_loss, reward_accuracy, reward_margin", async () => {
    const more = { objective: 'dpo', init: { from: base }, dpo: { beta: 0.5 } } as const;
    const { r: ref, val } = await reference(join(tmp, 'dpo-ref'), { model: MODEL, ...more });
    const dir = join(tmp, 'dpo-chain');
    const r = await runChain(spec(dir, MODEL, more));
    expect(r.losses).toEqual(ref.losses);
    expect(Math.abs(r.losses[0]! - Math.LN2)).toBeLessThan(1e-7);
    expect(r.losses.at(-1)!).toBeLessThan(r.losses[0]!);
    const m = metricsOf(dir);
    expect(m['val/dpo_loss']).toEqual(val.map((v) => v.loss));
    expect(m['val/dpo_loss']).toHaveLength(2);
    expect(m['val/reward_accuracy']).toHaveLength(2);
    expect(m['val/reward_margin']).toHaveLength(2);
  }, 120_000);
});
