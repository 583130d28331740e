// `flowlm generate` and `flowlm export` on a checkpoint as `flowlm train` writes it (a small model with
// GPT-2's vocabulary, random weights): sampling is reproducible by seed, greedy decoding follows the
// model's own argmax, and the exported safetensors file holds every parameter bit for bit under its
// GPT-2 name.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { saveCheckpoint, withShapes } from '../../src/nn/checkpoint/index.ts';
import { gptConfig } from '../../src/nn/model/config.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import { readSafetensors } from '../../src/nn/checkpoint/safetensors.ts';
import { flowlm, lastJson } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-generate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const run = join(tmp, 'run');
const modelConfig = gptConfig({ vocabSize: 50257, contextLength: 32, nLayer: 1, nHead: 2, dModel: 16 });
let model: Gpt;
const PROMPT = 'Call me Ishmael. Some years ago';

beforeAll(async () => {
  await initBackend({ announce: false });
  model = Gpt.create(modelConfig, { seed: 7 });
  const shapes = new Map(model.specs.map((s) => [s.name, s.shape]));
  const zeros = new Map(model.specs.map((s) => [s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1))]));
  await saveCheckpoint(run, {
    step: 3,
    params: withShapes(model.getParams(), shapes),
    optimizer: { m: withShapes(zeros, shapes), v: withShapes(zeros, shapes), step: 3 },
    state: { rng: null, dataCursor: null, configHash: 'test', config: { encoding: 'gpt2', modelConfig } },
  });
});

type Sample = { text: string; tokens: number[]; step: number };
const generate = async (...args: string[]) => {
  const r = await flowlm(['generate', '--checkpoint', run, '--prompt', PROMPT, '--max-tokens', '6', '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return lastJson(r.stdout) as unknown as Sample;
};

describe('flowlm generate', () => {
  it('is reproducible by seed, greedy follows the argmax, and top-k 1 is greedy', async () => {
    const [a, b, c, greedy, k1] = await Promise.all([
      generate('--seed', '1'),
      generate('--seed', '1'),
      generate('--seed', '2', '--temperature', '1.5'),
      generate('--temperature', '0'),
      generate('--top-k', '1', '--seed', '9'),
    ]);
    expect(a.tokens).toHaveLength(6);
    expect(b).toEqual(a);
    expect(c.tokens).not.toEqual(a.tokens);
    expect(a.step).toBe(3);
    const enc = getEncoding('gpt2');
    expect(a.text).toBe(enc.decode(a.tokens));
    expect(k1.tokens).toEqual(greedy.tokens);
    // the first greedy token is the model's argmax after the prompt, computed here in-process
    const ids = enc.encode(PROMPT);
    const logits = model.nextTokenLogits({
      ids: Int32Array.from(ids.slice(-32)),
      batch: 1,
      seqLen: Math.min(32, ids.length),
    });
    const v = logits.dataSync() as Float32Array;
    logits.dispose();
    expect(greedy.tokens[0]).toBe(v.indexOf(Math.max(...v)));
  }, 60_000);

  it('refuses a missing checkpoint with a readable error', async () => {
    const r = await flowlm(['generate', '--checkpoint', join(tmp, 'nope'), '--prompt', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not exist/);
  }, 30_000);
});

describe('flowlm export', () => {
  it('writes every parameter bit for bit under its GPT-2 name, with the config in the metadata', async () => {
    const out = join(tmp, 'model.safetensors');
    const r = await flowlm(['export', '--checkpoint', run, '--format', 'safetensors', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const file = readSafetensors(readFileSync(out), out);
    const params = model.getParams();
    expect([...file.tensors.keys()].sort()).toEqual([...params.keys()].sort());
    expect(file.tensors.has('h.0.attn.c_attn.weight')).toBe(true);
    for (const [name, v] of params)
      expect(Buffer.from(file.tensors.get(name)!.values.buffer).equals(Buffer.from(v.buffer)), name).toBe(true);
    expect(file.tensors.get('wte.weight')!.shape).toEqual([50257, 16]);
    expect(file.metadata.format).toBe('pt');
    expect(JSON.parse(file.metadata.flowlm_config!)).toMatchObject({ encoding: 'gpt2', modelConfig: { dModel: 16 } });
    expect(lastJson(r.stdout)).toMatchObject({ tensors: params.size, step: 3 });
  }, 30_000);

  it('refuses an unknown format', async () => {
    const r = await flowlm(['export', '--checkpoint', run, '--format', 'onnx', '--out', join(tmp, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/safetensors/);
  }, 30_000);
});
