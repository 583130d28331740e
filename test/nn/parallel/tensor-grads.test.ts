// Each rank's gradients are the slices of the single-device gradients (computeGrads on the whole Gpt,
// cut by shardParams) within 1e-6 of each tensor's largest value, for GPT-2's layout and for SwiGLU
// with an untied head and sinusoidal positions; a step leaves no tensors behind. All ranks in one
// thread (memory transport).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import type { GptConfigInput } from '../../../src/nn/model/config.ts';
import { Gpt } from '../../../src/nn/model/gpt.ts';
import { TensorShardModel } from '../../../src/nn/parallel/tensor-model.ts';
import { shardParams } from '../../../src/nn/parallel/tensor-shard.ts';
import { tensorGlobalNorm, tensorParallelGrads } from '../../../src/nn/parallel/tensor-step.ts';
import { computeGrads, globalNorm } from '../../../src/nn/train/train-step.ts';
import { memoryGroup } from '../../../src/runtime/collectives/memory-transport.ts';
import { batchFor, CONFIG } from './fixtures/tensor-run.ts';

beforeAll(async () => {
  await initBackend({ announce: false, headThread: false });
});

/** largest |a - b| over the largest |b| */
function relErr(a: Float32Array, b: Float32Array): number {
  let diff = 0,
    scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

const VARIANTS: [string, GptConfigInput][] = [
  ['GPT-2 layout', CONFIG],
  [
    'swiglu, untied head, sinusoidal positions',
    { ...CONFIG, activation: 'swiglu', tiedHead: false, positions: 'sinusoidal' },
  ],
];

describe('tensorParallelGrads', () => {
  for (const [what, cfg] of VARIANTS) {
    for (const tp of [2, 4]) {
      it(`${what}, tp ${tp}: loss, every shard's gradient and the global norm equal the single-device ones`, async () => {
        const model = Gpt.create(cfg, { seed: 9 });
        const batch = batchFor(3, 1);
        const ref = computeGrads(model, batch, { objective: { kind: 'autoregressive' } });
        const values = model.getParams();
        model.dispose();
        const shards = Array.from({ length: tp }, (_, r) => new TensorShardModel(cfg, values, tp, r));
        const before = tf.memory().numTensors;
        const group = memoryGroup(tp);
        const got = await Promise.all(group.map((c) => tensorParallelGrads(shards[c.rank]!, batch, c)));
        expect(tf.memory().numTensors).toBe(before);
        const norms = await Promise.all(group.map((c) => tensorGlobalNorm(shards[c.rank]!, got[c.rank]!.grads, c)));
        for (const [r, g] of got.entries()) {
          expect(Math.abs(g.loss - ref.loss) / ref.loss).toBeLessThan(1e-6);
          expect(Math.abs(norms[r]! - globalNorm(ref.grads)) / globalNorm(ref.grads)).toBeLessThan(1e-6);
          const want = shardParams(shards[r]!.config, ref.grads, tp, r);
          for (const [name, w] of want)
            expect(relErr(g.grads.get(name)!, w), `${name} of rank ${r}`).toBeLessThan(1e-6);
        }
        for (const s of shards) s.dispose();
      });
    }
  }
});
