// LoRA (issue 14, item 2): parity with an independent PyTorch implementation of PEFT's LoRA
// (test/nn/golden/make_lora_golden.py, float64; nonzero B), the adapted model equal to the base at
// initialisation, merge / unmerge, and training that moves only the adapters.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { gptConfig, type GptConfigInput } from '../../src/nn/model/config.ts';
import { Gpt, type GptInput } from '../../src/nn/model/gpt.ts';
import { paramSpecs } from '../../src/nn/model/params.ts';
import { trainableSpecs, paramCount } from '../../src/nn/adapters/trainable.ts';
import type { LoraConfigInput } from '../../src/nn/adapters/lora-config.ts';
import { mergeLora, mergedBaseValues, unmergeLora } from '../../src/nn/adapters/merge.ts';
import { computeGrads } from '../../src/nn/train/train-step.ts';
import { decodeF32, goldenParams, relErr } from './golden-params.ts';
import { memoryGroup } from '../../src/runtime/collectives/memory-transport.ts';
import { loadCheckpoint } from '../../src/nn/checkpoint/index.ts';
import { loadModel } from '../../src/nn/checkpoint/load-model.ts';
import type { Dist } from '../../src/nn/train/dist.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import { TrainReplica } from '../../src/nn/train/replica.ts';
import { trainConfig, type TrainConfigInput } from '../../src/nn/train/train-config.ts';
import type { TrainData, TrainHooks, TrainResult } from '../../src/nn/train/trainer.ts';
import { train } from './reference-trainer.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { exportCommand } from '../../src/cli/export-command.ts';
import { readSafetensors } from '../../src/nn/checkpoint/safetensors.ts';

interface LoraCase {
  name: string;
  config: GptConfigInput;
  input_ids: number[][];
  loss: number;
  logits: string;
  grads: Record<string, string>;
}
const golden = JSON.parse(readFileSync(new URL('./golden/lora.json', import.meta.url), 'utf8')) as {
  cases: LoraCase[];
};
const TOL = 1e-5;

const logitsOf = (model: Gpt, input: GptInput): Float32Array =>
  tf.tidy(() => tf.matMul(model.hidden(input), model.headMatrix(), false, true).dataSync() as Float32Array);

const inputOf = (rows: number[][]): GptInput => ({
  ids: Int32Array.from(rows.flatMap((r) => r.slice(0, -1))),
  batch: rows.length,
  seqLen: rows[0]!.length - 1,
});

beforeAll(async () => {
  await initBackend({ announce: false });
});

describe.each(['js', 'tf'] as const)('LoRA parity with PyTorch (%s kernels)', (kernels) => {
  it.each(golden.cases.map((c) => [c.name, c] as const))('%s: logits, loss, every adapter gradient', (_n, c) => {
    const model = Gpt.create(c.config, { values: goldenParams(gptConfig(c.config)) });
    model.kernels = kernels;
    try {
      const logitErr = relErr(logitsOf(model, inputOf(c.input_ids)), decodeF32(c.logits));
      const rows = c.input_ids;
      const r = computeGrads(
        model,
        { inputIds: Int32Array.from(rows.flat()), batch: rows.length, seqLen: rows[0]!.length - 1 },
        { objective: { kind: 'autoregressive' } },
      );
      const lossErr = Math.abs(r.loss - c.loss) / c.loss;
      const trainable = trainableSpecs(model.specs, model.config).map((s) => s.name);
      expect(trainable.sort()).toEqual(Object.keys(c.grads).sort());
      let worst = { name: '', err: 0 };
      for (const name of trainable) {
        const err = relErr(r.grads.get(name)!, decodeF32(c.grads[name]!));
        if (err > worst.err) worst = { name, err };
      }
      console.log(
        `LoRA ${kernels} | ${c.name}: logits ${logitErr.toExponential(2)}, loss ${lossErr.toExponential(2)}, worst gradient ${worst.name} ${worst.err.toExponential(2)}`,
      );
      expect(logitErr).toBeLessThan(TOL);
      expect(lossErr).toBeLessThan(TOL);
      expect(worst.err, `worst gradient ${worst.name}`).toBeLessThan(TOL);
    } finally {
      model.dispose();
    }
  });
});

const tiny = { vocabSize: 40, contextLength: 12, nLayer: 2, nHead: 2, dModel: 16 } satisfies GptConfigInput;
const rowsOf = (n: number, len: number, seed: number) =>
  Array.from({ length: n }, (_, b) => Array.from({ length: len }, (_, t) => (b * 7 + t * 5 + seed) % 40));

describe('LoRA model', () => {
  it('equals the base model at initialisation, bit for bit (base draws unchanged, B zero)', () => {
    const base = Gpt.create(tiny, { seed: 3 });
    const lora = Gpt.create(
      { ...tiny, lora: { r: 4, targets: ['attn.c_attn', 'mlp.c_fc', 'mlp.c_proj'] } },
      { seed: 3 },
    );
    try {
      for (const [name, v] of base.getParams()) expect(lora.getParams().get(name)).toEqual(v);
      const input = inputOf(rowsOf(2, 9, 1));
      expect(logitsOf(lora, input)).toEqual(logitsOf(base, input));
      // A is Kaiming-uniform: within +-1/sqrt(in) and not all zero
      const a = lora.getParams().get('h.1.mlp.c_proj.lora_A.weight')!;
      const bound = 1 / Math.sqrt(64);
      expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(bound / 2);
      expect(
        lora
          .getParams()
          .get('h.1.mlp.c_proj.lora_B.weight')!
          .every((x) => x === 0),
      ).toBe(true);
    } finally {
      base.dispose();
      lora.dispose();
    }
  });

  it("names and shapes the adapters as PEFT's GPT-2 does; only they are trainable", () => {
    const cfg = gptConfig({ ...tiny, lora: { r: 4, targets: ['attn.c_attn', 'mlp.c_proj'] } });
    const t = trainableSpecs(paramSpecs(cfg), cfg);
    expect(t.map((s) => [s.name, s.shape])).toEqual([
      ['h.0.attn.c_attn.lora_A.weight', [4, 16]],
      ['h.0.attn.c_attn.lora_B.weight', [48, 4]],
      ['h.0.mlp.c_proj.lora_A.weight', [4, 64]],
      ['h.0.mlp.c_proj.lora_B.weight', [16, 4]],
      ['h.1.attn.c_attn.lora_A.weight', [4, 16]],
      ['h.1.attn.c_attn.lora_B.weight', [48, 4]],
      ['h.1.mlp.c_proj.lora_A.weight', [4, 64]],
      ['h.1.mlp.c_proj.lora_B.weight', [16, 4]],
    ]);
    expect(paramCount(t)).toBe(2 * (4 * 16 + 48 * 4 + 4 * 64 + 16 * 4));
    // freezeBase false trains everything; no adapter: full training
    const all = gptConfig({ ...tiny, lora: { freezeBase: false } });
    expect(trainableSpecs(paramSpecs(all), all).length).toBe(paramSpecs(all).length);
    const plain = gptConfig(tiny);
    expect(trainableSpecs(paramSpecs(plain), plain).length).toBe(paramSpecs(plain).length);
  });

  it('merge then unmerge restores W within 1e-6; the merged forward equals the adapter forward', () => {
    const c = golden.cases[0]!;
    const model = Gpt.create(c.config, { values: goldenParams(gptConfig(c.config)) });
    try {
      const input = inputOf(c.input_ids);
      const before = model.getParams();
      const adapted = logitsOf(model, input);
      mergeLora(model);
      const w = model.getParams().get('h.0.attn.c_attn.weight')!;
      expect(relErr(w, before.get('h.0.attn.c_attn.weight')!)).toBeGreaterThan(1e-3); // W really moved
      const merged = logitsOf(model, input);
      expect(relErr(merged, adapted)).toBeLessThan(1e-6);
      // a plain GPT from merge_and_unload computes the same
      const { lora: _, ...baseCfg } = c.config;
      const plain = Gpt.create(baseCfg, { values: mergedBaseValues(model) });
      expect(relErr(logitsOf(plain, input), adapted)).toBeLessThan(1e-6);
      plain.dispose();
      unmergeLora(model);
      let worst = 0;
      for (const [name, v] of model.getParams()) {
        const b = before.get(name)!;
        for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(v[i]! - b[i]!));
      }
      console.log(
        `LoRA merge/unmerge: worst |W - W0| ${worst.toExponential(2)}, merged logits ${relErr(merged, adapted).toExponential(2)}`,
      );
      expect(worst).toBeLessThan(1e-6);
      expect(relErr(logitsOf(model, input), adapted)).toBeLessThan(1e-6);
    } finally {
      model.dispose();
    }
  });
});

// LoRA fine-tuning runs: a base trained briefly, then LoRA on every projection with adapter dropout on
const tmp = mkdtempSync(join(tmpdir(), 'flowlm-lora-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const V = 64;
const SEQ = 12;
const BATCH = 4;
const ROWS = 40;
// a fixed pseudo-text: each row a walk with a per-row stride, so next tokens are learnable
const rowAt = (r: number) => Array.from({ length: SEQ + 1 }, (_, t) => (r * 11 + t * (1 + (r % 5))) % V);
const batchOf = (rs: number[]): PackedBatch => ({
  inputIds: Int32Array.from(rs.flatMap(rowAt)),
  batch: rs.length,
  seqLen: SEQ,
});
/** as in ddp.test.ts: a global step takes worldSize * accum * BATCH rows, rank r its micro-batches */
const dataFor = (rank: number, worldSize: number, accum: number): TrainData => ({
  async *train(cursor) {
    let next = typeof cursor === 'number' ? cursor : 0;
    for (;;) {
      const mine = Array.from({ length: accum }, (_, k) =>
        batchOf(Array.from({ length: BATCH }, (_, i) => (next + (rank * accum + k) * BATCH + i) % ROWS)),
      );
      next = (next + worldSize * accum * BATCH) % ROWS;
      for (const b of mine) yield { batch: b, cursor: next };
    }
  },
});
const MODEL = { vocabSize: V, contextLength: SEQ, nLayer: 2, nHead: 2, dModel: 16 };
const LORA: LoraConfigInput = {
  r: 4,
  alpha: 8,
  dropout: 0.1,
  targets: ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'],
};
const runCfg = (runDir: string, more: Partial<TrainConfigInput> = {}) =>
  trainConfig({
    runDir,
    model: { ...MODEL, lora: LORA },
    init: { from: baseDir },
    data: { train: 'unused' },
    batchSize: BATCH,
    gradAccum: 2,
    steps: 8,
    lr: { max: 2e-2, min: 2e-3, warmupSteps: 1 },
    evalEvery: 0,
    checkpointEvery: 4,
    ...more,
  });
async function runAt(worldSize: 1 | 2, runDir: string, more: Partial<TrainConfigInput> = {}, hooks: TrainHooks = {}) {
  const accum = 2 / worldSize;
  const c = runCfg(runDir, { gradAccum: accum, ...more });
  if (worldSize === 1) return [await train(c, dataFor(0, 1, accum), hooks)];
  const dists: Dist[] = memoryGroup(2).map((collective, rank) => ({ rank, worldSize, collective }));
  return Promise.all(dists.map((dist) => train(c, dataFor(dist.rank, 2, accum), { ...hooks, dist })));
}
let baseDir = '';
let ref: TrainResult;
const logs: string[] = [];
beforeAll(async () => {
  const base = await train(runCfg(join(tmp, 'base'), { model: MODEL, init: {}, steps: 4 }), dataFor(0, 1, 2));
  baseDir = base.checkpoint!;
  [ref] = (await runAt(1, join(tmp, 'ref'), {}, { log: (l) => logs.push(l) })) as [TrainResult];
}, 120_000);

describe('LoRA fine-tuning', () => {
  it('trains only the adapters: base bit-identical, adapters moved, optimizer state for adapters only', async () => {
    const cfg = runCfg(join(tmp, 'replica'));
    const rep = await TrainReplica.open(cfg);
    try {
      const before = rep.model.getParams();
      const lora = trainableSpecs(rep.model.specs, rep.model.config).map((s) => s.name);
      expect(lora.every((n) => n.includes('.lora_'))).toBe(true);
      expect(rep.layout.entries.map((e) => e.name)).toEqual(lora);
      const data = dataFor(0, 1, 2).train(null)[Symbol.asyncIterator]();
      for (let s = 0; s < 3; s++) {
        const micro = [(await data.next()).value.batch, (await data.next()).value.batch];
        await rep.optimizerStep(await rep.allReduce(rep.forwardBackward(micro)), null);
      }
      const after = rep.model.getParams();
      const baseCk = await loadCheckpoint(baseDir);
      for (const [name, v] of after) {
        if (lora.includes(name)) expect(v, name).not.toEqual(before.get(name));
        else expect(v, name).toEqual(baseCk.params.get(name)!.values); // bit for bit
      }
      const st = await rep.optimizer.fullState();
      expect([...st.m.keys()]).toEqual(lora);
      expect([...st.v.keys()]).toEqual(lora);
    } finally {
      rep.dispose();
    }
  });

  it('reports the trainable parameter count; checkpoints hold the adapters and name the base', async () => {
    const cfg = gptConfig({ ...MODEL, lora: LORA });
    const n = paramCount(trainableSpecs(paramSpecs(cfg), cfg));
    expect(n).toBe(2 * (4 * 16 + 48 * 4 + (4 * 16 + 16 * 4) + (4 * 16 + 64 * 4) + (4 * 64 + 16 * 4)));
    expect(ref.trainableParams).toBe(n);
    expect(logs.some((l) => l.startsWith(`trainable parameters: ${n} of ${ref.params}`))).toBe(true);
    expect(ref.losses.at(-1)!).toBeLessThan(ref.losses[0]!); // it learns
    const ck = await loadCheckpoint(ref.checkpoint!);
    const lora = trainableSpecs(paramSpecs(cfg), cfg).map((s) => s.name);
    expect([...ck.params.keys()]).toEqual(lora);
    expect([...ck.optimizer.m.keys()]).toEqual(lora);
    expect((ck.state.extra as { adapterOnly: { base: string } }).adapterOnly.base).toBe(baseDir);
    // the whole model back: the base from init.from, the adapters from the checkpoint
    const { model } = await loadModel(ref.checkpoint!);
    const baseCk = await loadCheckpoint(baseDir);
    for (const [name, t] of baseCk.params) expect(model.getParams().get(name)).toEqual(t.values);
    for (const name of lora) expect(model.getParams().get(name)).toEqual(ck.params.get(name)!.values);
    model.dispose();
  });

  it('resumes exactly from an adapter-only checkpoint', async () => {
    const dir = join(tmp, 'resume');
    const stop = new AbortController();
    const [first] = await runAt(1, dir, {}, { signal: stop.signal, onStep: (p) => p.step === 3 && stop.abort() });
    expect(first).toMatchObject({ stopped: true, step: 3 });
    const [second] = await runAt(1, dir, {}, { resume: true });
    expect(second).toMatchObject({ ok: true, startStep: 3, step: 8 });
    expect([...first!.losses, ...second!.losses]).toEqual(ref.losses);
    expect(second!.paramsSha256).toBe(ref.paramsSha256);
  }, 60_000);

  for (const zero of [false, true]) {
    it(`world size 2 gives world size 1's losses with 2 accumulation steps${zero ? ', ZeRO-1' : ''}`, async () => {
      const [r0, r1] = (await runAt(2, join(tmp, zero ? 'ws2-zero' : 'ws2'), { zero })) as [TrainResult, TrainResult];
      const diff = Math.max(...r0.losses.map((l, i) => Math.abs(l - ref.losses[i]!)));
      console.log(
        `LoRA DDP${zero ? ' ZeRO-1' : ''}: max loss diff world 2 vs world 1 x accumulation 2 ${diff.toExponential(2)}`,
      );
      expect(r0.losses).toHaveLength(8);
      expect(diff).toBeLessThanOrEqual(1e-6);
      expect(r1.paramsSha256).toBe(r0.paramsSha256);
    }, 60_000);
  }

  it('exports the adapter as PEFT does: adapter_model.safetensors with PEFT names and shapes, adapter_config.json', async () => {
    const out = join(tmp, 'peft');
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), err: () => undefined, stderr: process.stderr };
    expect(await exportCommand(['--checkpoint', ref.checkpoint!, '--format', 'peft', '--out', out, '--json'], io)).toBe(
      0,
    );
    expect(JSON.parse(lines[0]!)).toMatchObject({ dir: out, tensors: 16, step: 8 });
    const file = readSafetensors(readFileSync(join(out, 'adapter_model.safetensors')));
    const ck = await loadCheckpoint(ref.checkpoint!);
    expect([...file.tensors.keys()].sort()).toEqual(
      [...ck.params.keys()].map((n) => `base_model.model.transformer.${n}`).sort(),
    );
    // lora_A [r, in], lora_B [out, r], values bit for bit
    expect(file.tensors.get('base_model.model.transformer.h.1.attn.c_attn.lora_A.weight')!.shape).toEqual([4, 16]);
    expect(file.tensors.get('base_model.model.transformer.h.1.attn.c_attn.lora_B.weight')!.shape).toEqual([48, 4]);
    expect(file.tensors.get('base_model.model.transformer.h.0.mlp.c_proj.lora_A.weight')!.shape).toEqual([4, 64]);
    for (const [name, t] of ck.params)
      expect(file.tensors.get(`base_model.model.transformer.${name}`)!.values).toEqual(t.values);
    expect(file.metadata.format).toBe('pt');
    const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: 4,
      lora_alpha: 8,
      lora_dropout: 0.1,
      target_modules: ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'],
      fan_in_fan_out: true,
      bias: 'none',
      use_rslora: false,
      base_model_name_or_path: baseDir,
    });
    // a run without LoRA has no adapter to export
    await expect(
      exportCommand(['--checkpoint', baseDir, '--format', 'peft', '--out', join(tmp, 'x')], io),
    ).rejects.toThrow(/not a LoRA run/);
  });

  it('exports as safetensors a plain GPT-2 with the adapters merged in (merge_and_unload)', async () => {
    const file = join(tmp, 'merged.safetensors');
    const io = { out: () => undefined, err: () => undefined, stderr: process.stderr };
    expect(await exportCommand(['--checkpoint', ref.checkpoint!, '--format', 'safetensors', '--out', file], io)).toBe(
      0,
    );
    const tensors = readSafetensors(readFileSync(file)).tensors;
    expect([...tensors.keys()].sort()).toEqual(
      paramSpecs(gptConfig(MODEL))
        .map((s) => s.name)
        .sort(),
    );
    const { model } = await loadModel(ref.checkpoint!);
    const plain = Gpt.create(MODEL, { values: new Map([...tensors].map(([n, t]) => [n, t.values])) });
    const input = inputOf(rowsOf(2, 9, 4));
    const err = relErr(logitsOf(plain, input), logitsOf(model, input));
    expect(err).toBeLessThan(1e-6);
    // and the adapters really change the model: the base alone differs
    const base = (await loadModel(baseDir)).model;
    expect(relErr(logitsOf(base, input), logitsOf(model, input))).toBeGreaterThan(1e-3);
    for (const m of [model, plain, base]) m.dispose();
  });
});

describe('LoRA dropout', () => {
  it('drops adapter inputs only, in training, reproducibly from the rng', () => {
    const cfg = { ...tiny, lora: { r: 2, dropout: 0.5, targets: ['attn.c_attn' as const] } };
    const model = Gpt.create(cfg, { seed: 5 });
    const input = inputOf(rowsOf(2, 9, 2));
    const run = (seed?: number) =>
      tf.tidy(
        () => model.hidden(input, { rng: seed === undefined ? undefined : new Rng(seed) }).dataSync() as Float32Array,
      );
    try {
      // B zero: the adapter adds nothing, so masks on its input leave the output exactly the base's
      expect(run(1)).toEqual(run());
      const b = new Float32Array(48 * 2).map((_, i) => Math.sin(i));
      model.setParams({ 'h.0.attn.c_attn.lora_B.weight': b, 'h.1.attn.c_attn.lora_B.weight': b });
      expect(relErr(run(1), run())).toBeGreaterThan(1e-3); // training: masks drawn
      expect(run(1)).toEqual(run(1)); // the same generator state gives the same masks
      expect(run(2)).not.toEqual(run(1));
    } finally {
      model.dispose();
    }
  });
});
