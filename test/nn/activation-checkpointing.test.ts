// Activation checkpointing (issue 15, item 3): with model.activationCheckpointing the loss and every
// parameter gradient are bit for bit those of the same model without it, on both kernel paths, pre-
// and post-LN, with dropout, attention dropout and DropPath (the masks are replayed), with LoRA
// adapter dropout and with prefix tuning; a short training run ends on identical parameters; the
// forward pass keeps fewer bytes for the backward pass; the option leaves the config hash alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import type { GptConfigInput } from '../../src/nn/model/config.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import { autoregressiveLoss, type PackedBatch } from '../../src/nn/objective/loss.ts';
import { configHash, trainConfig, type TrainConfigInput } from '../../src/nn/train/train-config.ts';
import { computeGrads } from '../../src/nn/train/train-step.ts';
import type { TrainData } from '../../src/nn/train/trainer.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { train } from './reference-trainer.ts';

beforeAll(async () => {
  await initBackend({ announce: false });
});
const tmp = mkdtempSync(join(tmpdir(), 'flowlm-ckpt-act-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const VOCAB = 300;
const SEQ = 16;
const base = { vocabSize: VOCAB, contextLength: SEQ, nLayer: 2, nHead: 4, dModel: 32 } satisfies GptConfigInput;
const regularised = { dropout: 0.1, attnDropout: 0.1, dropPath: 0.1 };

/** Rows of SEQ + 1 ids from a seeded generator (any ids do: the two runs see the same ones). */
function batchOf(seed: number, batch: number): PackedBatch {
  const rng = new Rng(seed);
  return {
    inputIds: Int32Array.from({ length: batch * (SEQ + 1) }, () => rng.below(VOCAB)),
    batch,
    seqLen: SEQ,
  };
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Loss, gradients and the generator's end state of one training micro-batch. */
function gradsWith(config: GptConfigInput, checkpointing: boolean, kernels: 'js' | 'tf') {
  const model = Gpt.create({ ...config, activationCheckpointing: checkpointing }, { seed: 5 });
  model.kernels = kernels;
  // nonzero LoRA B (zeros at initialisation), so the A gradients and the adapter dropout matter
  for (const [name, v] of model.params)
    if (name.endsWith('lora_B.weight')) v.assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', 9));
  try {
    const rng = new Rng(77);
    const before = tf.memory().numTensors;
    // packed rows: documents start at 0, 5 and 11 of every row (used under docMasking)
    const batch = {
      ...batchOf(3, 3),
      docStarts: [
        [0, 5, 11],
        [0, 5, 11],
        [0, 5, 11],
      ],
    };
    const r = computeGrads(model, batch, { objective: { kind: 'autoregressive' }, rng });
    expect(tf.memory().numTensors).toBe(before); // nothing left behind by the recomputation
    return { ...r, rngState: rng.save() };
  } finally {
    model.dispose();
  }
}

const cases: [string, GptConfigInput][] = [
  ['pre-LN, no dropout', base],
  ['pre-LN, dropout + attention dropout + DropPath', { ...base, ...regularised }],
  ['post-LN, no dropout', { ...base, norm: 'post' }],
  ['post-LN, dropout + attention dropout + DropPath', { ...base, norm: 'post', ...regularised }],
  [
    'LoRA with adapter dropout',
    { ...base, ...regularised, lora: { r: 4, dropout: 0.2, targets: ['attn.c_attn', 'mlp.c_fc'] } },
  ],
  ['prefix tuning', { ...base, contextLength: SEQ + 3, ...regularised, prefix: { numVirtualTokens: 3 } }],
  ['swiglu, untied head', { ...base, ...regularised, activation: 'swiglu', tiedHead: false }],
  ['document masking (packed rows)', { ...base, ...regularised, docMasking: true }],
];

describe.each(['js', 'tf'] as const)('activation checkpointing (%s kernels)', (kernels) => {
  it.each(cases)('%s: loss and every gradient bit-identical', (_name, config) => {
    const off = gradsWith(config, false, kernels);
    const on = gradsWith(config, true, kernels);
    expect(on.loss).toBe(off.loss);
    expect([...on.grads.keys()]).toEqual([...off.grads.keys()]);
    let nonzero = 0;
    for (const [name, g] of off.grads) {
      const same = bytes(on.grads.get(name)!).equals(bytes(g));
      expect(same, `gradient of ${name}`).toBe(true);
      if (g.some((v) => v !== 0)) nonzero++;
    }
    // the comparison is not between two empty gradients
    expect(nonzero).toBeGreaterThan(off.grads.size / 2);
    // the forward drew the same masks: the generator ends where it would have
    expect(on.rngState).toEqual(off.rngState);
  });
});

it('dropout masks really are replayed: a recomputation with fresh masks would differ', () => {
  // the same model with a different generator gives other gradients, so bit-identity above is not
  // a consequence of dropout having no effect
  const a = gradsWith({ ...base, ...regularised }, false, 'js');
  const model = Gpt.create({ ...base, ...regularised }, { seed: 5 });
  try {
    const b = computeGrads(model, batchOf(3, 3), { objective: { kind: 'autoregressive' }, rng: new Rng(78) });
    expect(bytes(b.grads.get('h.0.mlp.c_fc.weight')!).equals(bytes(a.grads.get('h.0.mlp.c_fc.weight')!))).toBe(false);
  } finally {
    model.dispose();
  }
});

/** Bytes of tensors alive when the backward pass starts (what the forward kept for it), and the
 * peak over the whole forward and backward pass. */
async function memoryOf(checkpointing: boolean): Promise<{ kept: number; peak: number }> {
  const model = Gpt.create({ ...base, nLayer: 4, ...regularised, activationCheckpointing: checkpointing }, { seed: 1 });
  try {
    const batch = batchOf(4, 4);
    const start = tf.memory().numBytes;
    let kept = 0;
    // an identity on the loss whose gradient, the first one the backward pass runs, looks at memory
    const probe = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
      value: tf.clone(args[0] as tf.Tensor),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        kept = tf.memory().numBytes - start;
        return tf.clone(dy as tf.Tensor);
      },
    }));
    const vars = [...model.params.values()];
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(
        () => probe(autoregressiveLoss(model, batch, { rng: new Rng(2) })) as tf.Scalar,
        vars,
      );
      tf.dispose([value, ...Object.values(grads)]);
    });
    return { kept, peak: profile.peakBytes - start };
  } finally {
    model.dispose();
  }
}

it('the forward pass keeps less for the backward pass, and the peak is lower', async () => {
  const off = await memoryOf(false);
  const on = await memoryOf(true);
  // with it on, the blocks keep their inputs alone: a block keeps far more than its input
  // without it (q, k, v, probabilities, masks, the MLP's 4x wide activations...)
  expect(on.kept).toBeLessThan(off.kept / 2);
  expect(on.peak).toBeLessThan(off.peak);
});

it('leaves the config hash alone, on or off (the numbers are the same, so a run may resume either way)', () => {
  const c = (model: TrainConfigInput['model']) =>
    trainConfig({ runDir: 'x', model, data: { train: 'unused' }, batchSize: 2, steps: 1 });
  const h = configHash(c(base));
  expect(configHash(c({ ...base, activationCheckpointing: false }))).toBe(h);
  expect(configHash(c({ ...base, activationCheckpointing: true }))).toBe(h);
  // the hash does see the model (this test could otherwise pass on a hash that ignores it)
  expect(configHash(c({ ...base, dModel: 64 }))).not.toBe(h);
});

it('a training run with it ends on the same parameters and losses as one without', async () => {
  const data: TrainData = {
    async *train(cursor) {
      let next = typeof cursor === 'number' ? cursor : 0;
      for (;;) yield { batch: batchOf(100 + next, 2), cursor: ++next };
    },
  };
  const run = (on: boolean) =>
    train(
      trainConfig({
        runDir: join(tmp, on ? 'on' : 'off'),
        model: { ...base, ...regularised, activationCheckpointing: on },
        data: { train: 'unused' },
        batchSize: 2,
        gradAccum: 2,
        steps: 4,
        lr: { max: 1e-2, min: 1e-3, warmupSteps: 1 },
        evalEvery: 0,
        checkpointEvery: 0,
      }),
      data,
    );
  const off = await run(false);
  const on = await run(true);
  expect(on.losses).toEqual(off.losses);
  expect(on.paramsSha256).toBe(off.paramsSha256);
  expect(new Set(off.losses).size).toBeGreaterThan(1); // training moved
});
