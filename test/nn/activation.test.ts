// The MLP activation is selectable: a tiny GPT's hidden states for gelu, relu and swiglu equal a
// forward pass written out by hand here (float64, no tfjs), on both kernel paths; relu and swiglu
// change the output; swiglu's gate projection is a named parameter that a checkpoint, loadModel and a
// safetensors export carry, and a checkpoint without it is refused naming it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { loadCheckpoint, saveCheckpoint, withShapes } from '../../src/nn/checkpoint/index.ts';
import { loadModel } from '../../src/nn/checkpoint/load-model.ts';
import { readSafetensors, writeSafetensors } from '../../src/nn/checkpoint/safetensors.ts';
import { gptConfig, type GptConfig, type GptConfigInput } from '../../src/nn/model/config.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import { paramSpecs } from '../../src/nn/model/params.ts';
import { goldenParams } from './golden-params.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-activation-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ announce: false });
});

type Activation = 'gelu' | 'relu' | 'swiglu';
const tiny = (activation: Activation): GptConfigInput => ({
  vocabSize: 7,
  contextLength: 4,
  nLayer: 1,
  nHead: 2,
  dModel: 4,
  mlpRatio: 2,
  activation,
});
const ids = Int32Array.of(1, 5, 2, 6, 0, 3, 3, 4);
const input = { ids, batch: 2, seqLen: 4 };

type Vec = number[];
const row = (v: Float32Array, r: number, n: number): Vec => Array.from(v.subarray(r * n, r * n + n));
/** x W + b with W [in, out] row-major (GPT-2's Conv1D layout) */
const dense = (x: Vec, w: Float32Array, b: Float32Array): Vec => {
  const out = Array.from(b);
  for (let i = 0; i < x.length; i++) for (let j = 0; j < out.length; j++) out[j]! += x[i]! * w[i * out.length + j]!;
  return out;
};
const layerNorm = (x: Vec, w: Float32Array, b: Float32Array, eps: number): Vec => {
  const mean = x.reduce((a, c) => a + c, 0) / x.length;
  const v = x.reduce((a, c) => a + (c - mean) ** 2, 0) / x.length;
  return x.map((c, i) => ((c - mean) / Math.sqrt(v + eps)) * w[i]! + b[i]!);
};
const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The pre-LN GPT's final hidden states, written out from the definitions. */
function reference(cfg: GptConfig, activation: Activation, p: Map<string, Float32Array>): Vec[] {
  const P = (n: string) => p.get(n)!;
  const { dModel: d, nHead } = cfg;
  const { seqLen } = input;
  const hd = d / nHead;
  const out: Vec[] = [];
  for (let b = 0; b < 2; b++) {
    let x = Array.from({ length: seqLen }, (_, t) =>
      row(P('wte.weight'), ids[b * seqLen + t]!, d).map((v, c) => v + P('wpe.weight')[t * d + c]!),
    );
    // attention sublayer (causal)
    const qkv = x.map((xt) =>
      dense(
        layerNorm(xt, P('h.0.ln_1.weight'), P('h.0.ln_1.bias'), cfg.layerNormEps),
        P('h.0.attn.c_attn.weight'),
        P('h.0.attn.c_attn.bias'),
      ),
    );
    const heads = x.map((_, i) => {
      const o = new Array<number>(d).fill(0);
      for (let h = 0; h < nHead; h++) {
        const s = Array.from({ length: i + 1 }, (_, j) => {
          let dot = 0;
          for (let c = 0; c < hd; c++) dot += qkv[i]![h * hd + c]! * qkv[j]![d + h * hd + c]!;
          return dot / Math.sqrt(hd);
        });
        const mx = Math.max(...s);
        const e = s.map((v) => Math.exp(v - mx));
        const z = e.reduce((a, c) => a + c, 0);
        for (let j = 0; j <= i; j++)
          for (let c = 0; c < hd; c++) o[h * hd + c]! += (e[j]! / z) * qkv[j]![2 * d + h * hd + c]!;
      }
      return o;
    });
    x = x.map((xt, i) =>
      dense(heads[i]!, P('h.0.attn.c_proj.weight'), P('h.0.attn.c_proj.bias')).map((v, c) => v + xt[c]!),
    );
    // MLP sublayer with the configured activation
    x = x.map((xt) => {
      const n = layerNorm(xt, P('h.0.ln_2.weight'), P('h.0.ln_2.bias'), cfg.layerNormEps);
      const up = dense(n, P('h.0.mlp.c_fc.weight'), P('h.0.mlp.c_fc.bias'));
      let act: Vec;
      if (activation === 'gelu') act = up.map(gelu);
      else if (activation === 'relu') act = up.map((v) => Math.max(0, v));
      else {
        const gate = dense(n, P('h.0.mlp.c_gate.weight'), P('h.0.mlp.c_gate.bias'));
        act = up.map((v, k) => v * gate[k]! * sigmoid(gate[k]!));
      }
      return dense(act, P('h.0.mlp.c_proj.weight'), P('h.0.mlp.c_proj.bias')).map((v, c) => v + xt[c]!);
    });
    out.push(...x.map((xt) => layerNorm(xt, P('ln_f.weight'), P('ln_f.bias'), cfg.layerNormEps)));
  }
  return out;
}

function hiddenOf(model: Gpt): Vec[] {
  const h = tf.tidy(() => model.hidden(input));
  const v = h.dataSync() as Float32Array;
  h.dispose();
  return Array.from({ length: 8 }, (_, r) => row(v, r, 4));
}

const maxDiff = (a: Vec[], b: Vec[]) => Math.max(...a.flatMap((r, i) => r.map((v, c) => Math.abs(v - b[i]![c]!))));

describe('MLP activation', () => {
  it("swiglu adds h.N.mlp.c_gate, shaped and initialised like c_fc; gelu and relu have GPT-2's tensors only", () => {
    const names = (a: Activation) => paramSpecs(gptConfig(tiny(a))).map((s) => s.name);
    expect(names('relu')).toEqual(names('gelu'));
    expect(names('gelu').some((n) => n.includes('c_gate'))).toBe(false);
    const specs = paramSpecs(gptConfig(tiny('swiglu')));
    const spec = (n: string) => specs.find((s) => s.name === n);
    expect(spec('h.0.mlp.c_gate.weight')).toEqual({ ...spec('h.0.mlp.c_fc.weight'), name: 'h.0.mlp.c_gate.weight' });
    expect(spec('h.0.mlp.c_gate.bias')).toEqual({ ...spec('h.0.mlp.c_fc.bias'), name: 'h.0.mlp.c_gate.bias' });
    expect(spec('h.0.mlp.c_gate.weight')!.shape).toEqual([4, 8]); // hidden width mlpRatio * dModel
    expect(gptConfig({ ...tiny('gelu'), activation: undefined }).activation).toBe('gelu');
  });

  const cases = (['gelu', 'relu', 'swiglu'] as const).flatMap((a) =>
    (['js', 'tf'] as const).map((k) => [a, k] as const),
  );
  it.each(cases)('%s (%s kernels) gives the hand-written forward pass', (activation, kernels) => {
    const cfg = gptConfig(tiny(activation));
    const params = goldenParams(cfg);
    const model = Gpt.create(cfg, { values: params });
    model.kernels = kernels;
    try {
      expect(maxDiff(hiddenOf(model), reference(cfg, activation, params))).toBeLessThan(1e-5);
    } finally {
      model.dispose();
    }
  });

  it('relu and swiglu change the output (same shared weights as the gelu model)', () => {
    const outputs = (['gelu', 'relu', 'swiglu'] as const).map((a) => {
      const cfg = gptConfig(tiny(a));
      const params = goldenParams(cfg); // by name: the tensors the models share are equal
      const model = Gpt.create(cfg, { values: params });
      try {
        return hiddenOf(model);
      } finally {
        model.dispose();
      }
    });
    const [g, r, s] = outputs as [Vec[], Vec[], Vec[]];
    expect(maxDiff(g, r)).toBeGreaterThan(1e-3);
    expect(maxDiff(g, s)).toBeGreaterThan(1e-3);
    expect(maxDiff(r, s)).toBeGreaterThan(1e-3);
  });

  it('swiglu weights go through a checkpoint, loadModel and a safetensors export; a checkpoint without c_gate is refused naming it', async () => {
    const cfg = gptConfig(tiny('swiglu'));
    const model = Gpt.create(cfg, { seed: 5 });
    const shapes = new Map(model.specs.map((s) => [s.name, s.shape]));
    const params = withShapes(model.getParams(), shapes);
    const zeros = withShapes(new Map([...model.getParams()].map(([n, v]) => [n, new Float32Array(v.length)])), shapes);
    const save = (run: string, p: typeof params) =>
      saveCheckpoint(join(tmp, run), {
        step: 3,
        params: p,
        optimizer: { m: zeros, v: zeros, step: 3 },
        state: { rng: null, dataCursor: null, configHash: 'test', config: { encoding: 'gpt2', modelConfig: cfg } },
      });
    try {
      const saved = await save('swiglu', params);
      const loaded = await loadModel(saved.dir);
      expect(loaded.model.config.activation).toBe('swiglu');
      expect(loaded.model.getParams().get('h.0.mlp.c_gate.weight')).toEqual(
        model.getParams().get('h.0.mlp.c_gate.weight'),
      );
      expect(hiddenOf(loaded.model)).toEqual(hiddenOf(model));
      loaded.model.dispose();

      const file = join(tmp, 'swiglu.safetensors');
      await writeSafetensors(file, (await loadCheckpoint(saved.dir)).params);
      const st = readSafetensors(readFileSync(file));
      expect(st.tensors.get('h.0.mlp.c_gate.weight')?.shape).toEqual([4, 8]);
      expect(st.tensors.get('h.0.mlp.c_gate.bias')?.values).toEqual(model.getParams().get('h.0.mlp.c_gate.bias'));

      const noGate = new Map([...params].filter(([n]) => !n.includes('c_gate')));
      const bad = await save('no-gate', noGate);
      await expect(loadModel(bad.dir)).rejects.toThrow(
        /parameter h\.0\.mlp\.c_gate\.weight of this model is missing from the checkpoint/,
      );
    } finally {
      model.dispose();
    }
  });
});
