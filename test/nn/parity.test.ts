// Golden parity with an independent PyTorch implementation (test/nn/golden/make_golden.py, float64):
// loss, every parameter gradient, the global gradient norm, one AdamW step and a masked-LM loss, for
// both kernel paths (JS kernels and plain tf ops) on the backend flowlm chooses here.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { AdamW } from '../../src/nn/optim/adamw.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { gptConfig, type GptConfigInput } from '../../src/nn/model/config.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import type { HeadTuning } from '../../src/nn/head/head-loss.ts';
import { maskedLmLoss } from '../../src/nn/objective/loss.ts';
import type { ParamKind } from '../../src/nn/model/params.ts';
import { computeGrads, globalNorm, gradsOf, type Grads } from '../../src/nn/train/train-step.ts';
import { decodeF32, goldenParams, relErr } from './golden-params.ts';

interface AdamWGolden {
  lr: number;
  betas: [number, number];
  eps: number;
  weight_decay: number;
  no_decay: ParamKind[];
  params_after: Record<string, string>;
}
interface GoldenCase {
  name: string;
  config: GptConfigInput;
  label_smoothing: number;
  loss: number;
  grads: Record<string, string>;
  grad_norm?: number;
  batch?: { input_ids: number[][]; doc_starts: number[][] | null; attention_mask: number[][] | null };
  mlm?: { inputs: number[][]; positions: number[]; labels: number[] };
  adamw?: AdamWGolden;
}

const golden = JSON.parse(readFileSync(new URL('./golden/gpt.json', import.meta.url), 'utf8')) as {
  cases: GoldenCase[];
};
const TOL = 1e-4;

function gradsFor(c: GoldenCase, model: Gpt, head?: HeadTuning): Grads {
  if (c.batch) {
    const rows = c.batch.input_ids;
    return computeGrads(
      model,
      {
        inputIds: Int32Array.from(rows.flat()),
        batch: rows.length,
        seqLen: rows[0]!.length - 1,
        docStarts: c.batch.doc_starts ?? undefined,
        attentionMask: c.batch.attention_mask ? Uint8Array.from(c.batch.attention_mask.flat()) : undefined,
      },
      { objective: { kind: 'autoregressive', labelSmoothing: c.label_smoothing }, head },
    );
  }
  const m = c.mlm!;
  const masked = {
    input: { ids: Int32Array.from(m.inputs.flat()), batch: m.inputs.length, seqLen: m.inputs[0]!.length },
    positions: Int32Array.from(m.positions),
    labels: Int32Array.from(m.labels),
  };
  return gradsOf(model, () => maskedLmLoss(model, masked, { labelSmoothing: c.label_smoothing, head }));
}

/** Worst per-tensor relative error between flowlm's gradients and the golden ones. */
function worstGradError(c: GoldenCase, grads: Map<string, Float32Array>): { name: string; err: number } {
  expect([...grads.keys()].sort()).toEqual(Object.keys(c.grads).sort());
  let worst = { name: '', err: 0 };
  for (const [name, g] of grads) {
    const err = relErr(g, decodeF32(c.grads[name]!));
    if (err > worst.err) worst = { name, err };
  }
  return worst;
}

beforeAll(async () => {
  await initBackend({ announce: false });
});

// kernel paths, and the head cut into chunks of 7 rows and vocabulary blocks of 10 (both uneven)
const variants: Array<[string, 'js' | 'tf', HeadTuning | undefined]> = [
  ['js kernels', 'js', undefined],
  ['tf kernels', 'tf', undefined],
  ['js kernels, head in 7-row chunks x 10-token blocks', 'js', { chunkRows: 7, vocabBlock: 10 }],
];

describe.each(variants)('golden parity with PyTorch (%s)', (label, kernels, head) => {
  it.each(golden.cases.map((c) => [c.name, c] as const))('%s: loss and every gradient', (_name, c) => {
    const model = Gpt.create(c.config, { values: goldenParams(gptConfig(c.config)) });
    model.kernels = kernels;
    try {
      const r = gradsFor(c, model, head);
      expect(Math.abs(r.loss - c.loss) / c.loss).toBeLessThan(TOL);
      const worst = worstGradError(c, r.grads);
      expect(worst.err, `worst gradient ${worst.name}`).toBeLessThan(TOL);
      if (c.grad_norm !== undefined)
        expect(Math.abs(globalNorm(r.grads) - c.grad_norm) / c.grad_norm).toBeLessThan(TOL);
      console.log(
        `${label} | ${c.name}: loss rel err ${(Math.abs(r.loss - c.loss) / c.loss).toExponential(2)}, worst gradient ${worst.name} ${worst.err.toExponential(2)}`,
      );
    } finally {
      model.dispose();
    }
  });
});

describe('golden AdamW step', () => {
  const c = golden.cases.find((x) => x.adamw)!;
  const a = c.adamw!;
  const optimizer = (model: Gpt) =>
    new AdamW(model.specs, {
      beta1: a.betas[0],
      beta2: a.betas[1],
      eps: a.eps,
      weightDecay: a.weight_decay,
      noDecay: a.no_decay,
    });

  it('from the golden gradients: every update matches torch.optim.AdamW (decay off for biases, norms, embeddings)', () => {
    const model = Gpt.create(c.config, { values: goldenParams(gptConfig(c.config)) });
    try {
      const before = model.getParams();
      const grads = new Map(Object.entries(c.grads).map(([n, g]) => [n, decodeF32(g)]));
      const opt = optimizer(model);
      opt.apply(model, grads, a.lr);
      expect(opt.step).toBe(1);
      let worst = { name: '', err: 0 };
      for (const [name, p] of model.getParams()) {
        // compare the updates, not the parameters: an update is ~lr, a parameter ~1
        const b = before.get(name)!;
        const ref = decodeF32(a.params_after[name]!);
        const err = relErr(
          p.map((x, i) => x - b[i]!),
          ref.map((x, i) => x - b[i]!),
        );
        if (err > worst.err) worst = { name, err };
      }
      console.log(`AdamW on golden gradients: worst update ${worst.name} ${worst.err.toExponential(2)}`);
      expect(worst.err, `worst update ${worst.name}`).toBeLessThan(TOL);
    } finally {
      model.dispose();
    }
  });

  it("end to end from flowlm's own gradients: every update matches where the gradient is not ~0", () => {
    // A gradient that is exactly 0 in exact arithmetic (the key bias's: softmax ignores a constant
    // per query) is float32 rounding noise here, and AdamW scales any nonzero gradient to a step of
    // about lr. Elements whose golden gradient is below 1e-6 (100 x eps) are left out and counted.
    const model = Gpt.create(c.config, { values: goldenParams(gptConfig(c.config)) });
    try {
      const before = model.getParams();
      optimizer(model).apply(model, gradsFor(c, model).grads, a.lr);
      let worst = { name: '', err: 0 };
      let skipped = 0;
      for (const [name, p] of model.getParams()) {
        const g = decodeF32(c.grads[name]!);
        const b = before.get(name)!;
        const ref = decodeF32(a.params_after[name]!);
        const keep = [...g.keys()].filter((i) => Math.abs(g[i]!) >= 1e-6);
        skipped += g.length - keep.length;
        const err = relErr(
          keep.map((i) => p[i]! - b[i]!),
          keep.map((i) => ref[i]! - b[i]!),
        );
        if (err > worst.err) worst = { name, err };
      }
      console.log(
        `AdamW end to end: worst update ${worst.name} ${worst.err.toExponential(2)} (${skipped} elements with |golden grad| < 1e-6 left out)`,
      );
      expect(worst.err, `worst update ${worst.name}`).toBeLessThan(TOL);
    } finally {
      model.dispose();
    }
  });

  it('leaves no tensors behind', () => {
    const model = Gpt.create(c.config, { values: goldenParams(gptConfig(c.config)) });
    const start = tf.memory().numTensors;
    gradsFor(c, model);
    expect(tf.memory().numTensors).toBe(start);
    model.dispose();
  });
});
