// The native kernels (src/nn/backend/native: attention.c, head.c, elementwise.c, adamw.c) against the
// JS kernels they replace and float64 references: attention, GELU and layer norm within float rounding
// (libm's exp against V8's, in the last bit), attention on causal, bidirectional and document-masked
// spans and with dropout factors; the head against float64; AdamW bit for bit (the same float64
// operations in the same order). Runs where the addon is built (pretest builds it); elsewhere the suite
// is skipped with the loader's reason.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { loadNative, nativeSkipReason, withoutNative } from '../../src/nn/backend/native/native.ts';
import { gelu } from '../../src/nn/model/gelu.ts';
import { layerNorm } from '../../src/nn/model/layer-norm.ts';
import { attentionJsBackward, attentionJsForward } from '../../src/nn/model/attention-core.ts';
import { attentionSpans } from '../../src/nn/model/attention-mask.ts';
import { adamwUpdateJs } from '../../src/nn/optim/adamw-update.ts';
import { Rng } from '../../src/runtime/rng.ts';

await initBackend({ announce: false });
const addon = loadNative();
const title = addon ? 'native attention and AdamW kernels' : `native kernels skipped: ${nativeSkipReason()}`;
const rng = new Rng(5);
const uniform = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);

/** max |a - b| / max(max |b|, 1e-30) */
function relErr(a: Float32Array, b: Float32Array): number {
  let err = 0;
  let mag = 1e-30;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    mag = Math.max(mag, Math.abs(b[i]!));
  }
  return err / mag;
}

describe.skipIf(!addon)(title, () => {
  const batch = 3;
  const t = 17; // odd: the kernels' 4-way unrolled loops meet a remainder
  const heads = 3;
  const hd = 6;
  const d = heads * hd;
  const cases = [
    { name: 'causal', spans: attentionSpans(batch, t, true), keep: undefined },
    { name: 'bidirectional', spans: attentionSpans(batch, t, false), keep: undefined },
    { name: 'documents', spans: attentionSpans(batch, t, true, [[0, 5], [0], [0, 3, 9, 16]]), keep: undefined },
    {
      name: 'dropout factors',
      spans: attentionSpans(batch, t, true),
      keep: Float32Array.from({ length: batch * heads * t * t }, () => (rng.next() < 0.1 ? 0 : 1 / 0.9)),
    },
  ];
  for (const c of cases)
    it(`attention forward and backward equal the JS kernel (${c.name})`, () => {
      const qkv = uniform(batch * t * 3 * d, 2);
      const dO = uniform(batch * t * d);
      const js = attentionJsForward(qkv, c.spans, heads, c.keep);
      const out = new Float32Array(batch * t * d);
      const probs = new Float32Array(batch * heads * t * t);
      addon!.attentionForward(qkv, batch, t, heads, c.spans.lo, c.spans.hi, c.keep ?? null, out, probs);
      expect(relErr(out, js.out)).toBeLessThan(1e-6);
      expect(relErr(probs, js.probs)).toBeLessThan(1e-6);
      const dJs = attentionJsBackward(dO, qkv, js.probs, c.spans, heads, c.keep);
      const dqkv = new Float32Array(batch * t * 3 * d);
      addon!.attentionBackward(dO, qkv, js.probs, batch, t, heads, c.spans.lo, c.spans.hi, c.keep ?? null, dqkv);
      expect(relErr(dqkv, dJs)).toBeLessThan(1e-6);
      // the gradient is not trivially zero
      expect(Math.max(...dqkv.map(Math.abs))).toBeGreaterThan(1e-3);
    });

  it('attention rejects spans outside the sequence and short arrays with an error', () => {
    const spans = attentionSpans(1, 4, true);
    const qkv = uniform(4 * 3 * 6);
    const hi = Int32Array.from(spans.hi);
    hi[2] = 4; // past the last position
    expect(() =>
      addon!.attentionForward(qkv, 1, 4, 2, spans.lo, hi, null, new Float32Array(24), new Float32Array(32)),
    ).toThrow(/outside the sequence/);
    expect(() =>
      addon!.attentionForward(qkv, 1, 4, 2, spans.lo, spans.hi, null, new Float32Array(23), new Float32Array(32)),
    ).toThrow(/too short/);
  });

  it('the head chunk gives the float64 loss, dh and dW, with label smoothing, row scales, accumulation', () => {
    const r = 5;
    const dd = 8;
    const v = 4099; // three vocabulary blocks of the kernel (2048), the last one short
    const h = uniform(r * dd);
    const w = uniform(v * dd, 0.5);
    const targets = Int32Array.from([0, 2047, 2048, 4098, 77]);
    const scale = Float32Array.from([0.1, 0.3, 0, 0.2, 0.4]);
    const eps = 0.1;
    const wMean = new Float32Array(dd);
    for (let j = 0; j < v; j++) for (let c = 0; c < dd; c++) wMean[c] = wMean[c]! + w[j * dd + c]! / v;
    const loss = new Float64Array(r);
    const dh = new Float32Array(r * dd);
    const start = uniform(v * dd, 1e-3); // accumulate: added to what is there
    const dw = start.slice();
    addon!.headChunk(h, w, targets, scale, eps, wMean, loss, dh, dw, true);
    // float64 reference: loss_r = s_r ((1 - eps)(lse - x_y) + eps (lse - mean x)); dh = s_r (P W - (1 - eps) W_y -
    // eps mean W); dW (the kernel's part) = sum_r s_r p_r h_r
    const refDw = Float64Array.from(start);
    for (let i = 0; i < r; i++) {
      const x = new Float64Array(v);
      for (let j = 0; j < v; j++) for (let c = 0; c < dd; c++) x[j]! += h[i * dd + c]! * w[j * dd + c]!;
      const mx = Math.max(...x);
      let sum = 0;
      for (const t of x) sum += Math.exp(t - mx);
      const lse = mx + Math.log(sum);
      const mean = x.reduce((a, b) => a + b, 0) / v;
      const s = scale[i]!;
      expect(loss[i]!).toBeCloseTo(s * ((1 - eps) * (lse - x[targets[i]!]!) + eps * (lse - mean)), 5);
      for (let c = 0; c < dd; c++) {
        let g = 0;
        for (let j = 0; j < v; j++) g += Math.exp(x[j]! - lse) * w[j * dd + c]!;
        const want = s * (g - (1 - eps) * w[targets[i]! * dd + c]! - eps * wMean[c]!);
        expect(Math.abs(dh[i * dd + c]! - want)).toBeLessThan(1e-6);
      }
      for (let j = 0; j < v; j++)
        for (let c = 0; c < dd; c++) refDw[j * dd + c]! += s * Math.exp(x[j]! - lse) * h[i * dd + c]!;
    }
    expect(relErr(dw, Float32Array.from(refDw))).toBeLessThan(1e-5);
    // without accumulation the array is overwritten, and without gradients only the loss is written
    const dw2 = uniform(v * dd);
    addon!.headChunk(h, w, targets, scale, eps, wMean, new Float64Array(r), new Float32Array(r * dd), dw2, false);
    for (let k = 0; k < dw2.length; k++) dw2[k] = dw2[k]! + start[k]!;
    expect(relErr(dw2, Float32Array.from(refDw))).toBeLessThan(1e-5);
    const lossOnly = new Float64Array(r);
    addon!.headChunk(h, w, targets, scale, eps, wMean, lossOnly, null, null, false);
    expect(lossOnly).toEqual(loss);
    expect(() =>
      addon!.headChunk(h, w, Int32Array.from([0, 1, 2, 3, v]), scale, 0, null, loss, null, null, false),
    ).toThrow(/outside the vocabulary/);
  });

  it('GELU and layer norm, forward and backward, equal their JS kernels', () => {
    const n = 7;
    const dd = 13;
    const x = tf.tensor2d(uniform(n * dd, 4), [n, dd]);
    const gamma = tf.tensor1d(uniform(dd, 2));
    const beta = tf.tensor1d(uniform(dd));
    const dy = tf.tensor2d(uniform(n * dd), [n, dd]);
    const run = () =>
      tf.tidy(() => {
        const [gx] = tf.grads((a: tf.Tensor) => gelu(a as tf.Tensor2D, true))([x], dy);
        const lnGrads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          layerNorm(a as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, true),
        )([x, gamma, beta], dy);
        const outs = [gelu(x, true), gx!, layerNorm(x, gamma, beta, 1e-5, true), ...lnGrads];
        return outs.map((t) => t.dataSync() as Float32Array);
      });
    const native = run();
    const js = withoutNative(run);
    expect(native.length).toBe(6);
    native.forEach((a, i) => expect(relErr(a, js[i]!), `output ${i}`).toBeLessThan(1e-6));
    tf.dispose([x, gamma, beta, dy]);
  });

  it('AdamW gives the JS update bit for bit, decayed and not, in place and into another array', () => {
    const n = 1003;
    const p = uniform(n);
    const g = uniform(n, 0.1);
    const m0 = uniform(n, 0.01);
    const v0 = Float32Array.from(uniform(n, 0.001), Math.abs);
    for (const decay of [1, 1 - 3e-4 * 0.1]) {
      const s = {
        b1: 0.9,
        b2: 0.95,
        stepSize: 3e-4 / (1 - 0.9 ** 3),
        bc2Sqrt: Math.sqrt(1 - 0.95 ** 3),
        decay,
        eps: 1e-8,
      };
      const [mJ, vJ, mN, vN] = [m0.slice(), v0.slice(), m0.slice(), v0.slice()];
      const outJ = new Float32Array(n);
      adamwUpdateJs(p, outJ, g, mJ, vJ, s);
      const pN = p.slice();
      addon!.adamwUpdate(pN, pN, g, mN, vN, s.b1, s.b2, s.stepSize, s.bc2Sqrt, s.decay, s.eps);
      expect(pN).toEqual(outJ);
      expect(mN).toEqual(mJ);
      expect(vN).toEqual(vJ);
      expect(pN).not.toEqual(p);
    }
  });
});
