// PEFT export of prefix tuning and P-tuning (src/nn/adapters/peft-export-prompt.ts): the one tensor PEFT's
// save_pretrained writes for a prompt-learning adapter (`prompt_embeddings`) against an independent PyTorch
// rendering of PEFT's PrefixEncoder / PromptEncoder and get_prompt (test/nn/golden/peft-prompt-golden.py,
// peft-prompt.json); the per-layer key/value prefixes PEFT's get_prompt rebuilds from the exported file
// (its view / permute([2, 0, 3, 1, 4]) / split(2), redone here index by index) bit for bit against flowlm's
// own; adapter_config.json against PEFT's config dataclasses; and `flowlm export --format peft` on
// adapter-only prefix and P-tuning checkpoints.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { exportCommand } from '../../src/cli/export-command.ts';
import type { CliIO } from '../../src/cli/io.ts';
import { writePeftAdapter } from '../../src/nn/adapters/peft-export.ts';
import { peftPromptConfig } from '../../src/nn/adapters/peft-export-prompt.ts';
import { prefixKeyValues } from '../../src/nn/adapters/prefix.ts';
import { virtualTokenEmbeddings } from '../../src/nn/adapters/ptuning.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { saveCheckpoint, withShapes, type NamedTensors } from '../../src/nn/checkpoint/index.ts';
import { readSafetensors } from '../../src/nn/checkpoint/safetensors.ts';
import { gptConfig, type GptConfig, type GptConfigInput } from '../../src/nn/model/config.ts';
import { initialValues, paramSpecs } from '../../src/nn/model/params.ts';
import { decodeF32, goldenParams, relErr } from './golden-params.ts';

interface GoldenCase {
  name: string;
  config: GptConfigInput;
  peft_type: 'PREFIX_TUNING' | 'P_TUNING';
  shape: number[];
  prompt_embeddings: string;
  past?: { key: string; value: string }[];
}
const golden = JSON.parse(readFileSync(new URL('./golden/peft-prompt.json', import.meta.url), 'utf8')) as {
  cases: GoldenCase[];
};
// float32 tfjs against float64 torch, for the encoders' outputs
const TOL = 1e-6;

// The fields of PEFT's config dataclasses (peft src/peft/config.py PeftConfigMixin, PeftConfig,
// PromptLearningConfig; tuners/prefix_tuning/config.py, tuners/p_tuning/config.py). peft_version is left
// for PEFT to fill on load; anything else would be an unexpected keyword PEFT drops with a warning.
const PEFT_CONFIG = ['task_type', 'peft_type', 'auto_mapping', 'base_model_name_or_path', 'revision', 'inference_mode'];
const PROMPT_LEARNING = [
  ...PEFT_CONFIG,
  'num_virtual_tokens',
  'token_dim',
  'num_transformer_submodules',
  'num_attention_heads',
  'num_layers',
  'modules_to_save',
];
const FIELDS = {
  PREFIX_TUNING: [...PROMPT_LEARNING, 'init_weights', 'encoder_hidden_size', 'prefix_projection'],
  P_TUNING: [
    ...PROMPT_LEARNING,
    'encoder_reparameterization_type',
    'encoder_hidden_size',
    'encoder_num_layers',
    'encoder_dropout',
  ],
};

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-peft-prompt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ announce: false });
});

const tensorsOf = (cfg: GptConfig, values: ReadonlyMap<string, Float32Array>): NamedTensors =>
  withShapes(values, new Map(paramSpecs(cfg).map((s) => [s.name, s.shape])));
const lookupIn = (params: NamedTensors) => (name: string) => {
  const t = params.get(name)!;
  return tf.tensor(t.values, t.shape);
};

/** PEFT's get_prompt on the loaded embedding E [n, layers*2*d] (batch 1): E.view(1, n, layers*2, heads, hd)
 * .permute([2, 0, 3, 1, 4]) is [layers*2, 1, heads, n, hd]; split(2) gives layer l the entries 2l (keys)
 * and 2l+1 (values), each [1, heads, n, hd]: element [h, t, e] of entry j is E[t, (j*heads + h)*hd + e]. */
function peftPast(e: Float32Array, n: number, layers: number, heads: number, d: number) {
  const hd = d / heads;
  const entry = (j: number) => {
    const out = new Float32Array(heads * n * hd);
    for (let h = 0; h < heads; h++)
      for (let t = 0; t < n; t++)
        for (let i = 0; i < hd; i++) out[(h * n + t) * hd + i] = e[t * layers * 2 * d + (j * heads + h) * hd + i]!;
    return out;
  };
  return Array.from({ length: layers }, (_, l) => ({ key: entry(2 * l), value: entry(2 * l + 1) }));
}

/** flowlm's own prefixes, layer by layer, as Float32Arrays [heads, n, hd]. */
const flowlmPast = (cfg: GptConfig, params: NamedTensors) =>
  tf.tidy(() =>
    prefixKeyValues(cfg, lookupIn(params)).map((kv) => ({
      key: kv.k.dataSync() as Float32Array,
      value: kv.v.dataSync() as Float32Array,
    })),
  );

async function readExport(dir: string) {
  const file = readSafetensors(readFileSync(join(dir, 'adapter_model.safetensors')));
  const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  return { file, config, e: file.tensors.get('prompt_embeddings')! };
}

describe.each(golden.cases)('PEFT export: $name', (c) => {
  const cfg = gptConfig(c.config);
  const params = tensorsOf(cfg, goldenParams(cfg));
  const dir = join(tmp, c.name.replace(/[^a-z0-9]+/gi, '-'));
  const exact = c.peft_type === 'PREFIX_TUNING' && !cfg.prefix?.projection;

  it('writes one tensor, prompt_embeddings, with the values PEFT saves', async () => {
    const written = await writePeftAdapter(dir, cfg, params, { baseModel: 'gpt2' });
    expect(written.names).toEqual(['prompt_embeddings']);
    const { file, e } = await readExport(dir);
    expect([...file.tensors.keys()]).toEqual(['prompt_embeddings']);
    expect(file.metadata.format).toBe('pt');
    expect(e.shape).toEqual(c.shape);
    const want = decodeF32(c.prompt_embeddings);
    if (exact) {
      // without projection PEFT saves the embedding table itself
      expect(e.values).toEqual(want);
      expect(e.values).toEqual(params.get('prefix_encoder.embedding.weight')!.values);
    } else expect(relErr(e.values, want)).toBeLessThan(TOL);
    if (c.peft_type === 'P_TUNING') {
      const v = tf.tidy(() => virtualTokenEmbeddings(cfg, lookupIn(params))!.dataSync() as Float32Array);
      expect(e.values).toEqual(v); // exactly the virtual tokens flowlm's forward pass prepends
    }
  });

  if (c.peft_type === 'PREFIX_TUNING')
    it("PEFT's get_prompt reshape of the file gives flowlm's per-layer key/value prefixes bit for bit", async () => {
      const { e } = await readExport(dir);
      const n = c.shape[0]!;
      const rebuilt = peftPast(e.values, n, cfg.nLayer, cfg.nHead, cfg.dModel);
      const ours = flowlmPast(cfg, params);
      expect(rebuilt).toHaveLength(cfg.nLayer);
      for (let l = 0; l < cfg.nLayer; l++) {
        expect(rebuilt[l]!.key, `layer ${l} keys`).toEqual(ours[l]!.key);
        expect(rebuilt[l]!.value, `layer ${l} values`).toEqual(ours[l]!.value);
        // and torch's view/permute/split on PEFT's saved tensor (the golden file)
        const ref = c.past![l]!;
        if (exact) {
          expect(rebuilt[l]!.key).toEqual(decodeF32(ref.key));
          expect(rebuilt[l]!.value).toEqual(decodeF32(ref.value));
        } else {
          expect(relErr(rebuilt[l]!.key, decodeF32(ref.key))).toBeLessThan(TOL);
          expect(relErr(rebuilt[l]!.value, decodeF32(ref.value))).toBeLessThan(TOL);
        }
      }
    });

  it("adapter_config.json: PEFT's config fields, keys sorted as PEFT writes them", async () => {
    const { config } = await readExport(dir);
    expect(Object.keys(config).sort()).toEqual([...FIELDS[c.peft_type]].sort());
    expect(Object.keys(config)).toEqual(Object.keys(config).sort());
    expect(config).toMatchObject({
      peft_type: c.peft_type,
      task_type: 'CAUSAL_LM',
      base_model_name_or_path: 'gpt2',
      inference_mode: true,
      num_virtual_tokens: c.shape[0],
      token_dim: 16,
      num_transformer_submodules: 1,
      num_attention_heads: 2,
      num_layers: 2,
      modules_to_save: null,
    });
    if (c.peft_type === 'PREFIX_TUNING') {
      // P-tuning v2's deep prompts: PEFT's prefix tuning without projection
      const projection = cfg.prefix?.projection ?? false;
      expect(config).toMatchObject({ prefix_projection: projection, init_weights: null });
      expect(config.encoder_hidden_size).toBe(cfg.prefix?.encoderHiddenSize ?? 16);
      // PEFT's saved row length: num_layers*2*token_dim
      expect(c.shape[1]).toBe((config.num_layers as number) * 2 * (config.token_dim as number));
    } else {
      const p = cfg.ptuning!;
      expect(config).toMatchObject({
        encoder_reparameterization_type: p.encoder.toUpperCase(),
        encoder_hidden_size: p.encoderHiddenSize,
        encoder_num_layers: p.encoderNumLayers,
        encoder_dropout: 0,
      });
      expect(c.shape[1]).toBe(config.token_dim);
    }
  });
});

describe('PEFT export: config mapping and refusals', () => {
  const base = { vocabSize: 32, contextLength: 16, nLayer: 2, nHead: 2, dModel: 16 };

  it("maps init 'zero' to PEFT's init_weights 'zero' and the default hidden size to token_dim", () => {
    const cfg = gptConfig({ ...base, prefix: { numVirtualTokens: 2, projection: true, init: 'zero' } });
    expect(peftPromptConfig(cfg, null)).toMatchObject({
      init_weights: 'zero',
      encoder_hidden_size: 16,
      prefix_projection: true,
      base_model_name_or_path: null,
    });
  });

  it('refuses LoRA together with a prompt adapter, and a model without an adapter', async () => {
    const both = gptConfig({ ...base, lora: { r: 2 }, prefix: { numVirtualTokens: 2 } });
    const params = tensorsOf(both, initialValues(both, 1));
    await expect(writePeftAdapter(join(tmp, 'both'), both, params)).rejects.toThrow(/both LoRA and prefix/);
    const none = gptConfig(base);
    await expect(writePeftAdapter(join(tmp, 'none'), none, tensorsOf(none, initialValues(none, 1)))).rejects.toThrow(
      /no lora, prefix or ptuning/,
    );
  });

  it('names the missing tensor when the checkpoint lacks the adapter', async () => {
    const cfg = gptConfig({ ...base, ptuning: { numVirtualTokens: 2 } });
    const values = new Map(initialValues(cfg, 1));
    values.delete('prompt_encoder.mlp_head.2.weight');
    await expect(writePeftAdapter(join(tmp, 'missing'), cfg, tensorsOf(cfg, values))).rejects.toThrow(
      /no prompt_encoder\.mlp_head\.2\.weight.*P_TUNING run/,
    );
  });
});

describe('flowlm export --format peft on adapter-only prefix and P-tuning checkpoints', () => {
  const baseCfg = gptConfig({ vocabSize: 40, contextLength: 16, nLayer: 2, nHead: 4, dModel: 16 });
  const baseDir = join(tmp, 'cli-base');

  async function save(dir: string, cfg: GptConfig, values: Map<string, Float32Array>, extra?: unknown) {
    const zeros = new Map([...values].map(([n, v]) => [n, new Float32Array(v.length)]));
    await saveCheckpoint(dir, {
      step: 5,
      params: tensorsOf(cfg, values),
      optimizer: { m: tensorsOf(cfg, zeros), v: tensorsOf(cfg, zeros), step: 5 },
      state: { rng: null, dataCursor: null, configHash: 'test', config: { modelConfig: cfg }, extra },
    });
  }
  /** An adapter-only checkpoint of `cfg` (its adapter from seed 3) on the base at baseDir. */
  async function adapterOnly(name: string, cfg: GptConfig): Promise<{ dir: string; params: NamedTensors }> {
    const all = initialValues(cfg, 3);
    const names = paramSpecs(cfg)
      .filter((s) => s.adapter)
      .map((s) => s.name);
    const mine = new Map(names.map((n) => [n, all.get(n)!]));
    const dir = join(tmp, name);
    await save(dir, cfg, mine, { adapterOnly: { base: baseDir, seed: 3, baseSha256: 'not checked by export' } });
    return { dir, params: tensorsOf(cfg, mine) };
  }
  async function run(...argv: string[]): Promise<{ out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t), stderr: process.stderr };
    expect(await exportCommand(argv, io)).toBe(0);
    return { out, err };
  }

  beforeAll(async () => {
    await save(baseDir, baseCfg, initialValues(baseCfg, 1));
  });

  it("a projected prefix: PEFT's reshape of the exported file is the checkpoint's prefixes", async () => {
    const cfg = gptConfig({ ...baseCfg, prefix: { numVirtualTokens: 5, projection: true, encoderHiddenSize: 8 } });
    const { dir, params } = await adapterOnly('cli-prefix', cfg);
    const out = join(tmp, 'cli-prefix-peft');
    const { out: lines } = await run('--checkpoint', dir, '--format', 'peft', '--out', out, '--json');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ dir: out, tensors: 1, step: 5 });
    const { e, config } = await readExport(out);
    expect(e.shape).toEqual([5, 2 * 2 * 16]);
    const rebuilt = peftPast(e.values, 5, 2, 4, 16);
    const ours = flowlmPast(cfg, params);
    for (let l = 0; l < 2; l++) {
      expect(rebuilt[l]!.key).toEqual(ours[l]!.key);
      expect(rebuilt[l]!.value).toEqual(ours[l]!.value);
    }
    expect(config).toMatchObject({
      peft_type: 'PREFIX_TUNING',
      base_model_name_or_path: baseDir,
      num_attention_heads: 4,
      prefix_projection: true,
      encoder_hidden_size: 8,
    });
  });

  it('P-tuning v1 (LSTM): the prompt encoder output; v2: a PREFIX_TUNING table; plain text output', async () => {
    const v1 = gptConfig({ ...baseCfg, ptuning: { numVirtualTokens: 3, encoder: 'lstm', encoderHiddenSize: 4 } });
    const a = await adapterOnly('cli-ptuning', v1);
    const outV1 = join(tmp, 'cli-ptuning-peft');
    const { out: lines } = await run('--checkpoint', a.dir, '--format', 'peft', '--out', outV1);
    expect(lines.at(-1)).toMatch(/wrote a PEFT P_TUNING adapter \(1 tensors\)/);
    const r1 = await readExport(outV1);
    const want = tf.tidy(() => virtualTokenEmbeddings(v1, lookupIn(a.params))!.dataSync() as Float32Array);
    expect(r1.e.shape).toEqual([3, 16]);
    expect(r1.e.values).toEqual(want);
    expect(r1.config).toMatchObject({ peft_type: 'P_TUNING', encoder_reparameterization_type: 'LSTM' });

    const v2 = gptConfig({ ...baseCfg, ptuning: { version: 'v2', numVirtualTokens: 2 } });
    const b = await adapterOnly('cli-ptuning-v2', v2);
    const outV2 = join(tmp, 'cli-ptuning-v2-peft');
    await run('--checkpoint', b.dir, '--format', 'peft', '--out', outV2);
    const r2 = await readExport(outV2);
    expect(r2.e.values).toEqual(b.params.get('prefix_encoder.embedding.weight')!.values);
    expect(r2.config).toMatchObject({ peft_type: 'PREFIX_TUNING', prefix_projection: false });
  });
});
