// LoRA (issue 14, item 2): parity with an independent PyTorch implementation of PEFT's LoRA
// (test/nn/golden/make_lora_golden.py, float64; nonzero B), the adapted model equal to the base at
// initialisation, merge / unmerge, adapter dropout. Training: lora-train.test.ts.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { gptConfig, type GptConfigInput } from '../../src/nn/model/config.ts';
import { Gpt, type GptInput } from '../../src/nn/model/gpt.ts';
import { paramSpecs } from '../../src/nn/model/params.ts';
import { trainableSpecs, paramCount } from '../../src/nn/adapters/trainable.ts';
import { mergeLora, mergedBaseValues, unmergeLora } from '../../src/nn/adapters/merge.ts';
import { computeGrads } from '../../src/nn/train/train-step.ts';
import { decodeF32, goldenParams, relErr } from './golden-params.ts';
import { Rng } from '../../src/runtime/rng.ts';

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
