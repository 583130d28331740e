// LoRA fine-tuning (issue 14, item 2) through the trainer: only the adapters train (the base bit for bit
// as init.from gave it, optimizer state for adapters only), adapter-only checkpoints resume exactly and
// rebuild the whole model, world size 2 equals world size 1 with 2 accumulation steps, and the adapter
// exports as PEFT's save_pretrained writes it (or merged into a plain GPT-2).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { exportCommand } from '../../src/cli/export-command.ts';
import { paramCount, trainableSpecs } from '../../src/nn/adapters/trainable.ts';
import type { LoraConfigInput } from '../../src/nn/adapters/lora-config.ts';
import { loadCheckpoint } from '../../src/nn/checkpoint/index.ts';
import { loadModel } from '../../src/nn/checkpoint/load-model.ts';
import { readSafetensors } from '../../src/nn/checkpoint/safetensors.ts';
import { gptConfig } from '../../src/nn/model/config.ts';
import { Gpt, type GptInput } from '../../src/nn/model/gpt.ts';
import { paramSpecs } from '../../src/nn/model/params.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import type { Dist } from '../../src/nn/train/dist.ts';
import { TrainReplica } from '../../src/nn/train/replica.ts';
import { trainConfig, type TrainConfigInput } from '../../src/nn/train/train-config.ts';
import type { TrainData, TrainHooks, TrainResult } from '../../src/nn/train/trainer.ts';
import { memoryGroup } from '../../src/runtime/collectives/memory-transport.ts';
import { relErr } from './golden-params.ts';
import { train } from './reference-trainer.ts';

const logitsOf = (model: Gpt, input: GptInput): Float32Array =>
  tf.tidy(() => tf.matMul(model.hidden(input), model.headMatrix(), false, true).dataSync() as Float32Array);
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
      // at step 0 the adapted model computes exactly what the base it starts from computes
      const base = (await loadModel(baseDir)).model;
      const probe: GptInput = { ids: Int32Array.from(rowAt(5).slice(0, SEQ)), batch: 1, seqLen: SEQ };
      expect(logitsOf(rep.model, probe)).toEqual(logitsOf(base, probe));
      base.dispose();
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
    const input: GptInput = {
      ids: Int32Array.from([...rowAt(3), ...rowAt(7)].filter((_, i) => i % (SEQ + 1) < SEQ)),
      batch: 2,
      seqLen: SEQ,
    };
    const err = relErr(logitsOf(plain, input), logitsOf(model, input));
    expect(err).toBeLessThan(1e-6);
    // and the adapters really change the model: the base alone differs
    const base = (await loadModel(baseDir)).model;
    expect(relErr(logitsOf(base, input), logitsOf(model, input))).toBeGreaterThan(1e-3);
    for (const m of [model, plain, base]) m.dispose();
  });
});
