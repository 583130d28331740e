// Prefix tuning and P-tuning (src/nn/adapters/prefix.ts, ptuning.ts) against an independent PyTorch
// implementation of Hugging Face PEFT's PrefixEncoder / PromptEncoder on GPT-2
// (test/nn/golden/make_prefix_golden.py, float64): logits, loss and every parameter's gradient, on both
// kernel paths; plus the config rules, PEFT's initialisation, trainable specs, greedy generation and
// `flowlm generate --adapter` on a base checkpoint plus an adapter-only one.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { generateCommand } from '../../src/cli/generate-command.ts';
import type { CliIO } from '../../src/cli/io.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { frozenSpecs, valuesSha256 } from '../../src/nn/checkpoint/adapter-only.ts';
import { saveCheckpoint, withShapes } from '../../src/nn/checkpoint/index.ts';
import { trainableSpecs } from '../../src/nn/adapters/trainable.ts';
import { gptConfig, type GptConfigInput } from '../../src/nn/model/config.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import { paramSpecs, initialValues } from '../../src/nn/model/params.ts';
import { generateTokens } from '../../src/nn/model/sample.ts';
import { autoregressiveLoss, type PackedBatch } from '../../src/nn/objective/loss.ts';
import { gradsOf } from '../../src/nn/train/train-step.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { decodeF32, goldenParams, relErr } from './golden-params.ts';

interface GoldenCase {
  name: string;
  config: GptConfigInput;
  batch: { input_ids: number[][]; doc_starts: number[][] | null; attention_mask: number[][] | null };
  loss: number;
  logits: string;
  adapter_params: string[];
  grads: Record<string, string>;
}

const golden = JSON.parse(readFileSync(new URL('./golden/prefix.json', import.meta.url), 'utf8')) as {
  cases: GoldenCase[];
};
const TOL = 1e-5;

const batchOf = (c: GoldenCase): PackedBatch => ({
  inputIds: Int32Array.from(c.batch.input_ids.flat()),
  batch: c.batch.input_ids.length,
  seqLen: c.batch.input_ids[0]!.length - 1,
  docStarts: c.batch.doc_starts ?? undefined,
  attentionMask: c.batch.attention_mask ? Uint8Array.from(c.batch.attention_mask.flat()) : undefined,
});

function logitsOf(model: Gpt, b: PackedBatch): Float32Array {
  const ids = new Int32Array(b.batch * b.seqLen);
  for (let r = 0; r < b.batch; r++)
    ids.set(b.inputIds.subarray(r * (b.seqLen + 1), r * (b.seqLen + 1) + b.seqLen), r * b.seqLen);
  return tf.tidy(() => {
    const h = model.hidden({ ids, batch: b.batch, seqLen: b.seqLen, docStarts: b.docStarts });
    return tf.matMul(h, model.headMatrix(), false, true).dataSync() as Float32Array;
  });
}

beforeAll(async () => {
  await initBackend({ announce: false });
});

describe.each(golden.cases)('PyTorch parity: $name', (c) => {
  const cfg = gptConfig(c.config);
  it.each(['js', 'tf'] as const)('logits, loss and every gradient within 1e-5 relative (%s kernels)', (kernels) => {
    const model = Gpt.create(cfg, { values: goldenParams(cfg) });
    model.kernels = kernels;
    try {
      const b = batchOf(c);
      expect(relErr(logitsOf(model, b), decodeF32(c.logits))).toBeLessThan(TOL);
      const { loss, grads } = gradsOf(model, () => autoregressiveLoss(model, b));
      expect(Math.abs(loss - c.loss) / c.loss).toBeLessThan(TOL);
      // the adapter's parameters are the ones the golden file lists, by PEFT's module names
      expect(model.specs.filter((s) => s.adapter).map((s) => s.name)).toEqual(c.adapter_params);
      expect([...grads.keys()].sort()).toEqual(Object.keys(c.grads).sort());
      for (const [name, g] of grads) {
        const err = relErr(g, decodeF32(c.grads[name]!));
        expect(err, name).toBeLessThan(TOL);
      }
    } finally {
      model.dispose();
    }
  });
});

const tiny = { vocabSize: 32, contextLength: 16, nLayer: 2, nHead: 2, dModel: 16 } satisfies GptConfigInput;

describe('configuration', () => {
  it('refuses P-tuning v1 with document masking, and prefix with ptuning together, naming the field', () => {
    expect(() => gptConfig({ ...tiny, docMasking: true, ptuning: { numVirtualTokens: 2 } })).toThrow(
      /ptuning[\s\S]*docMasking/,
    );
    expect(() =>
      gptConfig({ ...tiny, prefix: { numVirtualTokens: 2 }, ptuning: { version: 'v2', numVirtualTokens: 2 } }),
    ).toThrow(/prefix or ptuning, not both/);
    expect(() => gptConfig({ ...tiny, prefix: { numVirtualTokens: 0 } })).toThrow(/numVirtualTokens/);
  });

  it('rows plus virtual tokens must fit the context; maxSeqLen says how long a row may be', () => {
    const model = Gpt.create({ ...tiny, ptuning: { numVirtualTokens: 5 } });
    try {
      expect(model.maxSeqLen()).toBe(11);
      expect(() => tf.tidy(() => model.hidden({ ids: new Int32Array(12), batch: 1, seqLen: 12 }))).toThrow(
        /12 plus 5 virtual tokens .* context length 16; cut rows to at most 11/,
      );
    } finally {
      model.dispose();
    }
  });

  it('P-tuning v2 is prefix tuning without projection: same parameters, same logits', () => {
    const v2 = gptConfig({ ...tiny, ptuning: { version: 'v2', numVirtualTokens: 3 } });
    const pre = gptConfig({ ...tiny, prefix: { numVirtualTokens: 3 } });
    expect(paramSpecs(v2).map((s) => [s.name, s.shape])).toEqual(paramSpecs(pre).map((s) => [s.name, s.shape]));
    const a = Gpt.create(v2, { values: goldenParams(v2) });
    const b = Gpt.create(pre, { values: goldenParams(pre) });
    const batch: PackedBatch = { inputIds: Int32Array.from([1, 5, 9, 2, 7, 3]), batch: 1, seqLen: 5 };
    try {
      expect(logitsOf(a, batch)).toEqual(logitsOf(b, batch));
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});

describe('parameters', () => {
  it("PEFT's initialisation: embeddings N(0, 1), linears U(+-1/sqrt(fan_in)), zero init as init_weights='zero'", () => {
    const cfg = gptConfig({ ...tiny, dModel: 64, nHead: 4, ptuning: { numVirtualTokens: 20, encoderHiddenSize: 48 } });
    const v = initialValues(cfg, 7);
    const emb = v.get('prompt_encoder.embedding.weight')!;
    const mean = emb.reduce((a, b) => a + b, 0) / emb.length;
    const sd = Math.sqrt(emb.reduce((a, b) => a + (b - mean) ** 2, 0) / emb.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(sd).toBeGreaterThan(0.9);
    expect(sd).toBeLessThan(1.1);
    const w0 = v.get('prompt_encoder.mlp_head.0.weight')!; // fan_in 64: bound 1/8
    expect(Math.max(...w0.map(Math.abs))).toBeLessThanOrEqual(1 / 8);
    expect(Math.max(...w0.map(Math.abs))).toBeGreaterThan(0.12);
    const w4 = v.get('prompt_encoder.mlp_head.4.weight')!; // fan_in 48
    expect(Math.max(...w4.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(48));
    const zero = initialValues(
      gptConfig({ ...tiny, prefix: { numVirtualTokens: 2, projection: true, init: 'zero' } }),
      1,
    );
    expect(zero.get('prefix_encoder.transform.2.weight')!.every((x) => x === 0)).toBe(true);
    expect(zero.get('prefix_encoder.embedding.weight')!.some((x) => x !== 0)).toBe(true);
  });

  it('adding an adapter leaves the base draws unchanged, and only adapter parameters train', () => {
    const base = initialValues(gptConfig(tiny), 3);
    const cfg = gptConfig({ ...tiny, prefix: { numVirtualTokens: 4 } });
    const withPrefix = initialValues(cfg, 3);
    for (const [name, x] of base) expect(withPrefix.get(name)).toEqual(x);
    const trainable = trainableSpecs(paramSpecs(cfg), cfg);
    expect(trainable.map((s) => [s.name, s.shape])).toEqual([['prefix_encoder.embedding.weight', [4, 2 * 2 * 16]]]);
    const lstm = gptConfig({
      ...tiny,
      ptuning: { numVirtualTokens: 3, encoder: 'lstm', encoderHiddenSize: 8, encoderNumLayers: 1 },
    });
    // embedding 3x16; LSTM per direction: ih 16x32 + hh 8x32 + 2 biases of 32; head 16x16+16, 16x16+16
    const n = trainableSpecs(paramSpecs(lstm), lstm).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
    expect(n).toBe(3 * 16 + 2 * (16 * 32 + 8 * 32 + 64) + (16 * 16 + 16) + (16 * 16 + 16));
  });
});

describe('generation', () => {
  const adapters: [string, GptConfigInput][] = [
    ['prefix with projection', { ...tiny, prefix: { numVirtualTokens: 3, projection: true } }],
    ['P-tuning v1 (LSTM)', { ...tiny, ptuning: { numVirtualTokens: 3, encoder: 'lstm', encoderHiddenSize: 8 } }],
  ];
  it.each(adapters)('%s: greedy tokens are the argmax of one full forward over prompt + continuation', (_, c) => {
    const model = Gpt.create(c, { seed: 11 });
    try {
      const prompt = [4, 17, 9];
      const out = generateTokens(
        model,
        prompt,
        { maxTokens: model.maxSeqLen() - prompt.length, temperature: 0 },
        new Rng(0),
      );
      expect(out.length).toBe(model.maxSeqLen() - prompt.length);
      const all = [...prompt, ...out];
      const V = model.config.vocabSize;
      const logits = logitsOf(model, { inputIds: Int32Array.from([...all, 0]), batch: 1, seqLen: all.length });
      for (let i = prompt.length; i < all.length; i++) {
        const row = logits.subarray((i - 1) * V, i * V);
        expect(all[i], `token ${i}`).toBe(row.indexOf(Math.max(...row)));
      }
      // past maxSeqLen the window slides (the virtual tokens keep their places) instead of failing
      expect(generateTokens(model, all, { maxTokens: 2, temperature: 0 }, new Rng(0))).toHaveLength(2);
    } finally {
      model.dispose();
    }
  });
});

describe('flowlm generate --adapter', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'flowlm-prefix-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const baseCfg = gptConfig({ vocabSize: 50257, contextLength: 32, nLayer: 1, nHead: 2, dModel: 16 });
  const adaptedCfg = gptConfig({ ...baseCfg, prefix: { numVirtualTokens: 4, projection: true } });
  const PROMPT = 'Call me Ishmael.';

  async function save(dir: string, model: Gpt, names: string[], config: unknown, extra?: unknown) {
    const shapes = new Map(model.specs.map((s) => [s.name, s.shape]));
    const all = model.getParams();
    const params = new Map(names.map((n) => [n, all.get(n)!]));
    const zeros = new Map(names.map((n) => [n, new Float32Array(all.get(n)!.length)]));
    const t = (m: Map<string, Float32Array>) => withShapes(m, shapes);
    await saveCheckpoint(dir, {
      step: 2,
      params: t(params),
      optimizer: { m: t(zeros), v: t(zeros), step: 2 },
      state: { rng: null, dataCursor: null, configHash: 'test', config, extra },
    });
  }
  async function generate(...args: string[]): Promise<{ tokens: number[]; adapter?: string }> {
    const out: string[] = [];
    const io: CliIO = { out: (t) => out.push(t), err: () => {}, stderr: process.stderr };
    const argv = ['--prompt', PROMPT, '--temperature', '0', '--max-tokens', '5', '--json', ...args];
    expect(await generateCommand(argv, io)).toBe(0);
    return JSON.parse(out.at(-1)!) as { tokens: number[]; adapter?: string };
  }

  it('loads the base from --checkpoint and the prefix from --adapter; refuses another base or no adapter', async () => {
    const base = Gpt.create(baseCfg, { seed: 7 });
    const other = Gpt.create(baseCfg, { seed: 8 });
    const adapted = Gpt.create(adaptedCfg, { seed: 3, values: base.getParams() });
    try {
      const baseDir = join(tmp, 'base');
      const otherDir = join(tmp, 'other');
      const adapterDir = join(tmp, 'prefix');
      const names = (m: Gpt) => m.specs.map((s) => s.name);
      await save(baseDir, base, names(base), { encoding: 'gpt2', modelConfig: baseCfg });
      await save(otherDir, other, names(other), { encoding: 'gpt2', modelConfig: baseCfg });
      const frozen = frozenSpecs(adapted.specs, adaptedCfg).map((s) => s.name);
      const ref = { base: baseDir, seed: 3, baseSha256: valuesSha256(adapted.getParams(), frozen) };
      const adapterNames = adapted.specs.filter((s) => s.adapter).map((s) => s.name);
      await save(
        adapterDir,
        adapted,
        adapterNames,
        { encoding: 'gpt2', modelConfig: adaptedCfg },
        { adapterOnly: ref },
      );

      const ids = getEncoding('gpt2').encode(PROMPT);
      const expected = generateTokens(adapted, ids, { maxTokens: 5, temperature: 0 }, new Rng(0));
      const plain = generateTokens(base, ids, { maxTokens: 5, temperature: 0 }, new Rng(0));
      expect(expected).not.toEqual(plain); // the prefix changes the continuation
      const r = await generate('--checkpoint', baseDir, '--adapter', adapterDir);
      expect(r.tokens).toEqual(expected);
      expect(r.adapter).toMatch(/prefix[\\/]step-0*2$/);
      expect((await generate('--checkpoint', baseDir)).tokens).toEqual(plain);

      await expect(generate('--checkpoint', otherDir, '--adapter', adapterDir)).rejects.toThrow(
        /trained on other base weights .* give the step directory the adapter's run started from/,
      );
      await expect(generate('--checkpoint', baseDir, '--adapter', otherDir)).rejects.toThrow(/names no adapter/);
    } finally {
      base.dispose();
      other.dispose();
      adapted.dispose();
    }
  }, 60_000);
});
