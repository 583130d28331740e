// `flowlm plan --memory`: the memory planner's terms for pipelines/train-tiny.ts (they add up to the
// tensor and JS peaks), ZeRO-1's sharding of the moments, checkpointing's smaller activation term,
// the refusal on a spec without a training chain; and the GPT-2 parameter count it starts from.
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { CliIO } from '../../src/cli/io.ts';
import type { MemoryPlan, MemoryTerms } from '../../src/scheduler/memory-plan.ts';
import { spec } from './spawn.ts';

async function flowlm(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '',
    err = '';
  const io: CliIO = { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`), stderr: process.stderr };
  const code = await main(argv, io);
  return { code, out, err };
}
const memoryOf = (out: string): MemoryPlan => (JSON.parse(out) as { memory: MemoryPlan }).memory;

// GPT-2's parameter count for the tiny preset (V 50257, context 128, 4 layers, d 128, tied head):
// V d + T d + L (12 d^2 + 13 d) + 2 d
const D = 128;
const TINY_PARAMS = 50257 * D + 128 * D + 4 * (12 * D * D + 13 * D) + 2 * D;

const sums = (t: MemoryTerms) => {
  expect(t.atHead).toBe(t.params + t.activations + t.headChunk);
  expect(t.tensorPeak).toBe(Math.max(t.atHead, t.atEnd));
  expect(t.jsPeak).toBe(t.flatGrads + t.moments + t.kernelState + t.headArrays);
  expect(t.total).toBe(t.tensorPeak + t.jsPeak);
};

describe('flowlm plan --memory', () => {
  it('the terms add up, per device, for both modes; the text table shows them side by side', async () => {
    const r = await flowlm('plan', 'pipelines/train-tiny.ts', '--devices', 'cpu:1', '--memory', '--json');
    expect(r.code, r.err).toBe(0);
    const m = memoryOf(r.out);
    expect(m.params).toBe(TINY_PARAMS);
    expect(m.plain.params).toBe(4 * TINY_PARAMS);
    expect(m.plain.moments).toBe(2 * 4 * TINY_PARAMS);
    sums(m.plain);
    sums(m.checkpointed);
    const text = await flowlm('plan', 'pipelines/train-tiny.ts', '--devices', 'cpu:1', '--memory');
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/PLAIN\s+CHECKPOINTED/);
    expect(text.out).toMatch(/AdamW moments \(JS\)\s+57\.9 MB\s+57\.9 MB/);
  });

  it('ZeRO-1 divides the moments by the world size', async () => {
    const r = await flowlm(
      'plan',
      'pipelines/train-tiny.ts',
      '--devices',
      'cpu:2',
      '--set',
      'optimizer.zero=true',
      '--memory',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const m = memoryOf(r.out);
    expect(m.plain.moments).toBe(2 * 4 * Math.ceil(TINY_PARAMS / 2));
    expect(m.checkpointed.moments).toBe(m.plain.moments);
  });

  it('activation checkpointing lowers the activation and kernel terms', async () => {
    const m = memoryOf(
      (await flowlm('plan', 'pipelines/train-tiny.ts', '--devices', 'cpu:1', '--memory', '--json')).out,
    );
    expect(m.checkpointed.activations).toBeLessThan(m.plain.activations);
    expect(m.checkpointed.kernelState).toBeLessThan(m.plain.kernelState);
    expect(m.checkpointed.params).toBe(m.plain.params);
  });

  it('is refused on a spec without a training chain, saying why', async () => {
    const r = await flowlm('plan', spec('sotu-graph.json'), '--memory');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--memory: .*no training chain/);
  });
});

describe('the planner against a real training step', () => {
  it('micro, checkpointing off and on: tf.profile peak tensor bytes within 20% of the tensor peak', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { initBackend } = await import('../../src/nn/backend/backend.ts');
    const { gptConfig } = await import('../../src/nn/model/config.ts');
    const { Gpt } = await import('../../src/nn/model/gpt.ts');
    const { memoryPlan } = await import('../../src/scheduler/memory-plan.ts');
    const { SIZES, measureStep, randomBatch } = await import('../../bench/memory-plan.mts');
    await initBackend({ announce: false });
    const cfg = { ...SIZES.micro, dropout: 0 };
    for (const on of [false, true]) {
      // tensors alive before the model (earlier tests') are in peakBytes too
      const base = tf.memory().numBytes;
      const model = Gpt.create({ ...cfg, activationCheckpointing: on }, { seed: 1 });
      try {
        const m = await measureStep(model, randomBatch(cfg.vocabSize, 8, 128));
        const plan = memoryPlan(gptConfig({ ...cfg, activationCheckpointing: on }), {
          rows: 8,
          seqLen: 128,
          worldSize: 1,
          zero: false,
        });
        const t = on ? plan.checkpointed : plan.plain;
        const ratio = (m.peakBytes - base) / t.tensorPeak;
        expect(ratio, `checkpointing ${on}: measured ${m.peakBytes} predicted ${t.tensorPeak}`).toBeGreaterThan(0.8);
        expect(ratio).toBeLessThan(1.2);
      } finally {
        model.dispose();
      }
    }
  }, 60_000);
});
