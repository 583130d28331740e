// Optimisation pieces on their own: the learning-rate schedule, clipping by global norm, gradient
// accumulation (equal to one big batch, as data-parallel replicas must be), the head computed in
// chunks of rows (equal to one chunk), AdamW state round trip, and BERT-style masking statistics.
import { availableParallelism } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { AdamW } from '../../src/nn/optim/adamw.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import { headHelper } from '../../src/nn/head/head-helper.ts';
import { headLoss } from '../../src/nn/head/head-loss.ts';
import {
  autoregressiveLoss,
  autoregressiveLossValue,
  inputsOf,
  type PackedBatch,
} from '../../src/nn/objective/loss.ts';
import { maskTokens } from '../../src/nn/objective/mask-tokens.ts';
import { cosineLr } from '../../src/nn/optim/schedule.ts';
import { accumulateGrads, clipGlobalNorm, computeGrads, globalNorm } from '../../src/nn/train/train-step.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { relErr } from './golden-params.ts';

beforeAll(async () => {
  await initBackend({ announce: false });
});

const cfg = { vocabSize: 40, contextLength: 12, nLayer: 2, nHead: 2, dModel: 16 };
function rows(rng: Rng, batch: number): PackedBatch {
  return { inputIds: Int32Array.from({ length: batch * 13 }, () => rng.below(40)), batch, seqLen: 12 };
}

describe('cosine schedule with linear warm-up', () => {
  const s = { maxLr: 1e-3, minLr: 1e-4, warmupSteps: 10, totalSteps: 110 };
  it('warms up linearly, peaks, decays by a cosine to the floor and stays there', () => {
    expect(cosineLr(s, 0)).toBeCloseTo(1e-4, 12);
    expect(cosineLr(s, 4)).toBeCloseTo(5e-4, 12);
    expect(cosineLr(s, 9)).toBeCloseTo(1e-3, 12);
    expect(cosineLr(s, 10)).toBeCloseTo(1e-3, 12);
    expect(cosineLr(s, 60)).toBeCloseTo(5.5e-4, 12); // half way: (max + min) / 2
    expect(cosineLr(s, 110)).toBe(1e-4);
    expect(cosineLr(s, 5000)).toBe(1e-4);
    for (let t = 10; t < 110; t++) expect(cosineLr(s, t + 1)).toBeLessThanOrEqual(cosineLr(s, t));
  });
});

describe('gradients', () => {
  it('clipping scales to the maximum norm and reports the norm before', () => {
    const g = new Map([
      ['a', Float32Array.from([3, 0])],
      ['b', Float32Array.from([4])],
    ]);
    expect(clipGlobalNorm(g, 1)).toBeCloseTo(5, 6);
    expect(globalNorm(g)).toBeCloseTo(1, 5);
    expect(clipGlobalNorm(g, 10)).toBeCloseTo(1, 5); // under the limit: unchanged
    expect(g.get('b')![0]).toBeCloseTo(0.8, 5);
  });

  it('accumulating two micro-batches equals one batch of both (float tolerance)', () => {
    const model = Gpt.create(cfg, { seed: 2 });
    const rng = new Rng(1);
    const a = rows(rng, 2);
    const b = rows(rng, 2);
    const both: PackedBatch = { inputIds: Int32Array.from([...a.inputIds, ...b.inputIds]), batch: 4, seqLen: 12 };
    const acc = accumulateGrads(model, [a, b], { objective: { kind: 'autoregressive' } });
    const one = computeGrads(model, both, { objective: { kind: 'autoregressive' } });
    expect(Math.abs(acc.loss - one.loss)).toBeLessThan(1e-5);
    for (const [name, g] of one.grads) expect(relErr(acc.grads.get(name)!, g), name).toBeLessThan(1e-5);
    model.dispose();
  });

  it('the head in chunks of 5 rows and vocabulary blocks of 7 gives the gradients of one piece', () => {
    const model = Gpt.create({ ...cfg, tiedHead: false }, { seed: 4 });
    const batch = rows(new Rng(3), 3);
    const objective = { kind: 'autoregressive' as const, labelSmoothing: 0.1 };
    const whole = computeGrads(model, batch, { objective });
    const chunked = computeGrads(model, batch, { objective, head: { chunkRows: 5, vocabBlock: 7 } });
    expect(Math.abs(whole.loss - chunked.loss)).toBeLessThan(1e-5);
    for (const [name, g] of whole.grads) expect(relErr(chunked.grads.get(name)!, g), name).toBeLessThan(1e-5);
    model.dispose();
  });
});

describe('AdamW', () => {
  it('state round-trips: a restored optimizer continues identically', () => {
    const rng = new Rng(8);
    const batches = [rows(rng, 2), rows(rng, 2), rows(rng, 2)];
    const run = (restoreAfter: number | undefined) => {
      const model = Gpt.create(cfg, { seed: 5 });
      let opt = new AdamW(model.specs);
      for (let i = 0; i < batches.length; i++) {
        if (i === restoreAfter) {
          const s = opt.getState();
          const copy = {
            step: s.step,
            m: new Map([...s.m].map(([k, v]) => [k, v.slice()])),
            v: new Map([...s.v].map(([k, v]) => [k, v.slice()])),
          };
          opt = new AdamW(model.specs);
          opt.setState(copy);
        }
        opt.apply(model, computeGrads(model, batches[i]!, { objective: { kind: 'autoregressive' } }).grads, 1e-2);
      }
      const p = model.getParams();
      model.dispose();
      return p;
    };
    const straight = run(undefined);
    const restored = run(2);
    for (const [name, v] of straight)
      expect(Buffer.from(restored.get(name)!.buffer).equals(Buffer.from(v.buffer)), name).toBe(true);
  });

  it('excludes the configured kinds from weight decay', () => {
    const model = Gpt.create(cfg, { seed: 1 });
    const zero = new Map(model.specs.map((s) => [s.name, new Float32Array(model.param(s.name).size)]));
    const before = model.getParams();
    new AdamW(model.specs, { weightDecay: 0.5, noDecay: ['bias', 'norm', 'embedding'] }).apply(model, zero, 0.1);
    const after = model.getParams();
    // zero gradients: only decay moves a parameter, by the factor 1 - lr * wd
    expect(after.get('h.0.attn.c_attn.weight')![3]).toBeCloseTo(before.get('h.0.attn.c_attn.weight')![3]! * 0.95, 7);
    for (const name of ['wte.weight', 'h.0.ln_1.weight', 'h.0.mlp.c_fc.bias'])
      expect(after.get(name)).toEqual(before.get(name));
    model.dispose();
  });
});

describe('BERT-style masking', () => {
  it('chooses ~15% of positions; 80% become the mask token, 10% random, 10% unchanged', () => {
    const rng = new Rng(12);
    const ids = Int32Array.from({ length: 40000 }, () => 1 + rng.below(999));
    const m = maskTokens({ ids, batch: 40, seqLen: 1000 }, rng, { maskToken: 0, vocabSize: 1000 });
    const n = m.positions.length;
    expect(n / ids.length).toBeGreaterThan(0.14);
    expect(n / ids.length).toBeLessThan(0.16);
    let masked = 0;
    let same = 0;
    for (let k = 0; k < n; k++) {
      const i = m.positions[k]!;
      expect(m.labels[k]).toBe(ids[i]);
      if (m.input.ids[i] === 0) masked++;
      else if (m.input.ids[i] === ids[i]) same++;
    }
    expect(masked / n).toBeGreaterThan(0.77);
    expect(masked / n).toBeLessThan(0.83);
    expect(same / n).toBeGreaterThan(0.08); // 10% kept, plus random draws that hit the same token
    expect(same / n).toBeLessThan(0.12);
    // positions not chosen are untouched
    const chosen = new Set(m.positions);
    for (let i = 0; i < ids.length; i++) if (!chosen.has(i)) expect(m.input.ids[i]).toBe(ids[i]);
  });
});

describe('head helper thread', () => {
  it('runs on wasm with 2+ cores, and two threads give the loss and gradients of one, bit for bit', (ctx) => {
    if (tf.getBackend() !== 'wasm' || availableParallelism() < 2 || process.env.FLOWLM_HEAD_THREAD === '0') ctx.skip();
    expect(headHelper(), 'initBackend starts the helper on wasm with 2+ cores').toBeDefined();
    const rng = new Rng(21);
    const h = tf.tensor2d(
      Float32Array.from({ length: 50 * 16 }, () => rng.next() - 0.5),
      [50, 16],
    );
    const w = tf.variable(
      tf.tensor2d(
        Float32Array.from({ length: 300 * 16 }, () => (rng.next() - 0.5) * 0.2),
        [300, 16],
      ),
    );
    const targets = Int32Array.from({ length: 50 }, () => rng.below(300));
    const weights = Float32Array.from({ length: 50 }, (_, i) => (i % 7 === 0 ? 0 : 1));
    const run = (threads: 1 | 2) => {
      const { value, grads } = tf.variableGrads(
        () => headLoss(h, w, { targets, weights, labelSmoothing: 0.1, chunkRows: 6, vocabBlock: 64, threads }),
        [w],
      );
      const r = { loss: value.dataSync()[0]!, g: Float32Array.from(grads[w.name]!.dataSync()) };
      tf.dispose([value, ...Object.values(grads)]);
      return r;
    };
    // the chunks are summed in a fixed order whichever thread did them: resumed runs repeat exactly
    const one = run(1);
    for (let i = 0; i < 3; i++) {
      const two = run(2);
      expect(two.loss).toBe(one.loss);
      expect(Buffer.from(two.g.buffer).equals(Buffer.from(one.g.buffer))).toBe(true);
    }
    tf.dispose([h, w]);
  });
});

describe('forward pass', () => {
  it('next-token logits agree with the loss at the last position', () => {
    const model = Gpt.create(cfg, { seed: 6 });
    const batch = rows(new Rng(4), 3);
    // only the last target of each row counts
    const attentionMask = new Uint8Array(3 * 13);
    for (let r = 0; r < 3; r++) attentionMask[r * 13 + 12] = 1;
    const loss = autoregressiveLossValue(model, { ...batch, attentionMask });
    const logits = model.nextTokenLogits(inputsOf(batch));
    const x = logits.arraySync();
    logits.dispose();
    let ce = 0;
    for (let r = 0; r < 3; r++) {
      const row = x[r]!;
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
      ce += (lse - row[batch.inputIds[r * 13 + 12]!]!) / 3;
    }
    expect(Math.abs(ce - loss)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('dropout and DropPath draw their masks from the rng: same state, same loss; none in evaluation', () => {
    const model = Gpt.create({ ...cfg, dropout: 0.2, dropPath: 0.2 }, { seed: 6 });
    const batch = rows(new Rng(5), 4);
    const lossWith = (rng?: Rng) => tf.tidy(() => autoregressiveLoss(model, batch, { rng }).dataSync()[0]!);
    const a = lossWith(new Rng(77));
    expect(lossWith(new Rng(77))).toBe(a);
    expect(lossWith(new Rng(78))).not.toBe(a);
    expect(lossWith(undefined)).toBeCloseTo(autoregressiveLossValue(model, batch), 5);
    expect(lossWith(undefined)).not.toBe(a);
    model.dispose();
  });
});
