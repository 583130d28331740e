// Every option of the posttrain/ppo resource changes the run: each against the base config's metrics
// (ppo-fixtures.ts), in the metrics the option must move; LoRA trains only the adapters and the value
// head; stopAtEos ends a response at end-of-text (a policy that always draws it).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Field, Int32, Schema, Utf8 } from 'apache-arrow';
import { from, lastValueFrom } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeShards } from '../../../operators/shard/write-shards.ts';
import { loadCheckpoint } from '../../../src/nn/checkpoint/index.ts';
import { loadModel } from '../../../src/nn/checkpoint/load-model.ts';
import type { PpoConfigInput } from '../../../src/nn/ppo/ppo-config.ts';
import { BASE, dirFor, EOS_POLICY, metricsFor, metricsOf, P, PROMPTS, REF, run, spec } from './ppo-fixtures.ts';
import { batchFromColumns } from '../../../src/schema/index.ts';

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
      ['h.0.attn.c_attn.lora_A.weight', 'h.0.attn.c_attn.lora_B.weight', 'value_head.bias', 'value_head.weight'].sort(),
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

it('prompts from a text file, a JSONL file or a shard directory: the same run as from the list', async () => {
  const more = { iterations: 2, batchSize: 3 };
  const metrics = async (source?: Record<string, unknown>) => {
    const dir = dirFor('source');
    const r = await run(spec(dir, more, [], source));
    expect(r.ok, r.error?.message).toBe(true);
    return metricsOf(dir).by;
  };
  const want = await metrics();
  const txt = join(dirFor('txt'), 'prompts.txt');
  const jsonl = join(dirFor('jsonl'), 'prompts.jsonl');
  const shards = dirFor('shards');
  for (const f of [txt, jsonl]) mkdirSync(dirname(f), { recursive: true });
  writeFileSync(jsonl, PROMPTS.map((p) => JSON.stringify({ prompt: p, other: 1 })).join('\n'));
  const schema = new Schema([new Field('id', new Int32(), false), new Field('prompt', new Utf8(), false)]);
  const batch = batchFromColumns(schema, { id: Int32Array.from(PROMPTS, (_, i) => i), prompt: PROMPTS });
  await lastValueFrom(from([batch]).pipe(writeShards({ dir: shards, shardRows: 3 }, { log: () => undefined })));
  expect(await metrics({ file: jsonl })).toEqual(want);
  expect(await metrics({ dir: shards })).toEqual(want);
  // a text file has one prompt per line: the prompts lose their trailing newline, compared with such a list
  const oneLine = PROMPTS.map((p) => p.replace(/\n$/, ''));
  writeFileSync(txt, oneLine.join('\n'));
  const fromTxt = await metrics({ file: txt });
  const listNoNewline = await metrics({ prompts: oneLine });
  expect(fromTxt).toEqual(listNoNewline);
  expect(fromTxt[1]!.score).not.toBe(want[1]!.score);
});

it('refuses a minibatch larger than the batch, and two prompt sources at once', async () => {
  await expect(run(spec(dirFor('bad'), { miniBatchSize: 5 }))).rejects.toThrow(
    /miniBatchSize must be at most batchSize/,
  );
  await expect(run(spec(dirFor('bad'), {}, [], { prompts: PROMPTS, file: 'p.txt' }))).rejects.toThrow(
    /exactly one of prompts/,
  );
});
