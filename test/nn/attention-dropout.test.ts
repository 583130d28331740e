// Dropout on the attention probabilities: the share zeroed is the rate (statistically) and the rest are
// scaled by 1 / (1 - rate); both kernel paths apply the same seeded mask; the JS kernel's backward
// uses that mask (it matches tf autodiff of the tf path and central differences); a model with
// attnDropout drops attention, and with no dropout at all a training forward is bit-identical to an
// evaluation one.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { attentionCore } from '../../src/nn/model/attention-core.ts';
import { attentionSpans } from '../../src/nn/model/attention-mask.ts';
import { gptConfig } from '../../src/nn/model/config.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import { Rng } from '../../src/runtime/rng.ts';

beforeAll(async () => {
  await initBackend({ announce: false });
});

/**
 * q = k = 0 (every allowed key gets the same probability) and v_j = the one-hot vector e_j, so output
 * row i is query i's probabilities after dropout: out[i][j] = m_ij / (keys i may attend to).
 */
function probeQkv(batch: number, t: number): tf.Tensor2D {
  const d = t;
  const v = new Float32Array(batch * t * 3 * d);
  for (let r = 0; r < batch * t; r++) v[r * 3 * d + 2 * d + (r % t)] = 1;
  return tf.tensor2d(v, [batch * t, 3 * d]);
}

const run = (
  qkv: tf.Tensor2D,
  causal: boolean,
  js: boolean,
  rate: number,
  seed: number,
  batch: number,
  t: number,
): Float32Array =>
  tf.tidy(
    () =>
      attentionCore(qkv, attentionSpans(batch, t, causal), 1, js, {
        rate,
        rng: new Rng(seed),
      }).dataSync() as Float32Array,
  );

describe('attention dropout', () => {
  it.each([
    ['js', true],
    ['tf', false],
  ] as const)('%s path: zeroes a share `rate` of the probabilities and scales the rest by 1/(1-rate)', (_label, js) => {
    const batch = 8,
      t = 32,
      rate = 0.3;
    const qkv = probeQkv(batch, t);
    const out = run(qkv, false, js, rate, 11, batch, t);
    qkv.dispose();
    let zeros = 0;
    for (const p of out) {
      if (p === 0) zeros++;
      else expect(p).toBeCloseTo(1 / t / (1 - rate), 6);
    }
    const n = out.length; // batch * t queries x t keys, all allowed
    const sd = Math.sqrt((rate * (1 - rate)) / n);
    expect(Math.abs(zeros / n - rate)).toBeLessThan(4 * sd);
  });

  it('both paths draw the same mask from the same seed, only over allowed keys (causal), and another seed draws another', () => {
    const batch = 3,
      t = 12,
      rate = 0.5;
    const qkv = probeQkv(batch, t);
    const js = run(qkv, true, true, rate, 5, batch, t);
    const tfOut = run(qkv, true, false, rate, 5, batch, t);
    const other = run(qkv, true, true, rate, 6, batch, t);
    qkv.dispose();
    for (let i = 0; i < js.length; i++) expect(Math.abs(js[i]! - tfOut[i]!)).toBeLessThan(1e-6);
    expect(Array.from(other)).not.toEqual(Array.from(js));
    for (let r = 0; r < batch * t; r++) {
      const i = r % t;
      for (let j = i + 1; j < t; j++) expect(js[r * t + j]).toBe(0); // a future key stays unreachable
      for (let j = 0; j <= i; j++)
        expect([0, Math.fround(1 / (i + 1) / (1 - rate))]).toContain(Math.fround(js[r * t + j]!));
    }
  });

  // random q, k, v; loss = sum(out * w) for a fixed random w
  const batch = 2,
    t = 5,
    nHead = 2,
    d = 4,
    rate = 0.4;
  const rng = new Rng(21);
  const qkvValues = Float32Array.from({ length: batch * t * 3 * d }, () => 2 * rng.next() - 1);
  const wValues = Float32Array.from({ length: batch * t * d }, () => 2 * rng.next() - 1);
  const weighted = (out: tf.Tensor2D) => tf.sum(tf.mul(out, tf.tensor2d(wValues, [batch * t, d]))) as tf.Scalar;
  const lossOf = (js: boolean) => (qkv: tf.Tensor) =>
    weighted(attentionCore(qkv as tf.Tensor2D, attentionSpans(batch, t, true), nHead, js, { rate, rng: new Rng(99) }));

  it("the JS kernel's gradient with dropout equals tf autodiff of the tf path with the same mask", () => {
    const qkv = tf.tensor2d(qkvValues, [batch * t, 3 * d]);
    const gJs = tf.tidy(() => tf.grad(lossOf(true))(qkv).dataSync() as Float32Array);
    const gTf = tf.tidy(() => tf.grad(lossOf(false))(qkv).dataSync() as Float32Array);
    const gNoDrop = tf.tidy(
      () =>
        tf
          .grad((x: tf.Tensor) =>
            weighted(attentionCore(x as tf.Tensor2D, attentionSpans(batch, t, true), nHead, true)),
          )(qkv)
          .dataSync() as Float32Array,
    );
    qkv.dispose();
    let worst = 0;
    for (let i = 0; i < gJs.length; i++) worst = Math.max(worst, Math.abs(gJs[i]! - gTf[i]!));
    expect(worst).toBeLessThan(1e-5);
    let differs = 0;
    for (let i = 0; i < gJs.length; i++) differs = Math.max(differs, Math.abs(gJs[i]! - gNoDrop[i]!));
    expect(differs).toBeGreaterThan(1e-2); // the mask reached the backward pass
  });

  it("the JS kernel's gradient with dropout matches central differences (the mask fixed by the seed)", () => {
    const f = (values: Float32Array) =>
      tf.tidy(() => lossOf(true)(tf.tensor2d(values, [batch * t, 3 * d])).dataSync()[0]!);
    const g = tf.tidy(() => {
      const qkv = tf.tensor2d(qkvValues, [batch * t, 3 * d]);
      return tf.grad(lossOf(true))(qkv).dataSync() as Float32Array;
    });
    const h = 1e-2;
    const idx = [...g.keys()].sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!)).slice(0, 12);
    for (const i of idx) {
      const plus = qkvValues.slice();
      plus[i]! += h;
      const minus = qkvValues.slice();
      minus[i]! -= h;
      const fd = (f(plus) - f(minus)) / (2 * h);
      expect(Math.abs(fd - g[i]!) / (Math.abs(g[i]!) + 1e-3)).toBeLessThan(5e-3);
    }
  });
});

describe('attnDropout in the model', () => {
  const base = { vocabSize: 11, contextLength: 8, nLayer: 2, nHead: 2, dModel: 8 };
  const input = { ids: Int32Array.from({ length: 16 }, (_, i) => (i * 7) % 11), batch: 2, seqLen: 8 };
  const hidden = (m: Gpt, rng?: Rng) => tf.tidy(() => Array.from(m.hidden(input, { rng }).dataSync()));

  it('defaults to `dropout` (one rate for both, as nanoGPT) and can be set apart', () => {
    expect(gptConfig(base).attnDropout).toBe(0);
    expect(gptConfig({ ...base, dropout: 0.1 }).attnDropout).toBe(0.1);
    expect(gptConfig({ ...base, dropout: 0.1, attnDropout: 0 }).attnDropout).toBe(0);
    expect(() => gptConfig({ ...base, attnDropout: 1 })).toThrow(/attnDropout/);
  });

  it('drops attention in training forwards only, deterministically in the generator; without dropout training equals evaluation bit for bit', () => {
    for (const kernels of ['js', 'tf'] as const) {
      const plain = Gpt.create(base, { seed: 4 });
      const dropped = Gpt.create({ ...base, attnDropout: 0.5 }, { values: plain.getParams() });
      plain.kernels = kernels;
      dropped.kernels = kernels;
      try {
        const evalOut = hidden(plain);
        expect(hidden(plain, new Rng(1))).toEqual(evalOut); // dropout 0: no draws, identical numbers
        expect(hidden(dropped)).toEqual(evalOut); // evaluation: no dropout
        const a = hidden(dropped, new Rng(1));
        expect(a).not.toEqual(evalOut);
        expect(hidden(dropped, new Rng(1))).toEqual(a); // the seeded generator alone decides the mask
        expect(hidden(dropped, new Rng(2))).not.toEqual(a);
      } finally {
        plain.dispose();
        dropped.dispose();
      }
    }
  });
});
