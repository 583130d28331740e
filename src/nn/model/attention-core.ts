// Scaled dot-product attention over packed q|k|v rows: qkv [batch*seqLen, 3d] -> [batch*seqLen, d],
// heads side by side as in GPT-2. The JS kernel walks each query's allowed key span only (about half
// the work under a causal mask) and keeps the probabilities for the backward pass; tfjs-backend-wasm
// would run these small batched products in its naive loop. The tf path is for native backends.
// Attention dropout (attention-dropout.ts) multiplies the probabilities by one mask in both paths; the
// JS kernel keeps the mask and the undropped probabilities for its backward pass. Without dropout
// both paths compute exactly what they did before it existed.
import * as tf from '@tensorflow/tfjs';
import { attentionDropMask, type AttentionDrop } from './attention-dropout.ts';
import { spanBias, type AttentionSpans } from './attention-mask.ts';
import { customOp, fromF32, readF32 } from '../backend/js-kernel.ts';
import { loadNative } from '../backend/native/native.ts';
import { prefixAttention, prefixDropMask, type PastKV } from '../adapters/prefix.ts';

/** `drop`: attention dropout (training); none or rate 0 leaves the probabilities as they are. `past`:
 * prefix keys and values every query sees before the row's own. */
export function attentionCore(
  qkv: tf.Tensor2D,
  spans: AttentionSpans,
  nHead: number,
  js: boolean,
  drop?: AttentionDrop,
  past?: PastKV,
): tf.Tensor2D {
  // prefix keys/values (prefix tuning) go through tf ops on every backend: the JS kernel's spans cover
  // the row's own keys only
  if (past) {
    const n = past.k.shape[1];
    const mask = drop && drop.rate > 0 ? prefixDropMask(spans, nHead, n, drop.rate, drop.rng) : undefined;
    return prefixAttention(qkv, spans, nHead, past, mask);
  }
  const keep = drop && drop.rate > 0 ? attentionDropMask(spans, nHead, drop.rate, drop.rng) : undefined;
  return js ? attentionJs(qkv, spans, nHead, keep) : attentionTf(qkv, spans, nHead, keep);
}

function attentionTf(
  qkv: tf.Tensor2D,
  spans: AttentionSpans,
  nHead: number,
  keep: Float32Array | undefined,
): tf.Tensor2D {
  const { batch, seqLen: t } = spans;
  const d = qkv.shape[1] / 3;
  const hd = d / nHead;
  return tf.tidy(() => {
    const heads = (x: tf.Tensor) => x.reshape([batch, t, nHead, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
    const [q, k, v] = tf.split(qkv, 3, 1).map(heads) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), spanBias(spans));
    const probs = tf.softmax(scores);
    const out = tf.matMul(keep ? tf.mul(probs, tf.tensor4d(keep, [batch, nHead, t, t])) : probs, v);
    return out.transpose([0, 2, 1, 3]).reshape([batch * t, d]) as tf.Tensor2D;
  });
}

function attentionJs(
  qkvT: tf.Tensor2D,
  spans: AttentionSpans,
  nHead: number,
  keep: Float32Array | undefined,
): tf.Tensor2D {
  const { batch, seqLen: t } = spans;
  const row = qkvT.shape[1];
  const op = customOp<tf.Tensor2D>(([qkvIn]) => {
    const qkv = readF32(qkvIn!);
    const native = loadNative();
    if (native) {
      // the same algorithm compiled (src/nn/backend/native/attention.c)
      const { lo, hi } = spans;
      const out = new Float32Array(batch * t * (row / 3));
      const probs = new Float32Array(batch * nHead * t * t);
      native.attentionForward(qkv, batch, t, nHead, lo, hi, keep ?? null, out, probs);
      return {
        value: fromF32(out, [batch * t, row / 3]),
        grad: (dy) => {
          const dqkv = new Float32Array(batch * t * row);
          native.attentionBackward(readF32(dy), qkv, probs, batch, t, nHead, lo, hi, keep ?? null, dqkv);
          return [fromF32(dqkv, [batch * t, row])];
        },
      };
    }
    const { out, probs } = attentionJsForward(qkv, spans, nHead, keep);
    return {
      value: fromF32(out, [batch * t, row / 3]),
      grad: (dy) => [fromF32(attentionJsBackward(readF32(dy), qkv, probs, spans, nHead, keep), [batch * t, row])],
    };
  });
  return op(qkvT);
}

/** Copies head h of sequence b out of the packed rows into contiguous [t, hd] arrays (L1-sized). */
function gatherHead(
  src: Float32Array,
  rowLen: number,
  colOffset: number,
  b: number,
  t: number,
  hd: number,
  dst: Float32Array,
  scale = 1,
): void {
  for (let i = 0; i < t; i++) {
    const o = (b * t + i) * rowLen + colOffset;
    for (let c = 0; c < hd; c++) dst[i * hd + c] = src[o + c]! * scale;
  }
}

/** Dot product of a[ao..ao+n) and b[bo..bo+n), four accumulators (independent chains run faster). */
function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  let c = 0;
  for (; c + 3 < n; c += 4) {
    s0 += a[ao + c]! * b[bo + c]!;
    s1 += a[ao + c + 1]! * b[bo + c + 1]!;
    s2 += a[ao + c + 2]! * b[bo + c + 2]!;
    s3 += a[ao + c + 3]! * b[bo + c + 3]!;
  }
  for (; c < n; c++) s0 += a[ao + c]! * b[bo + c]!;
  return s0 + s1 + s2 + s3;
}

/** The JS kernel (exported for the native kernel's test). `probs` holds the softmax before dropout; `keep` (same layout) the dropout factors, if any. */
export function attentionJsForward(
  qkv: Float32Array,
  spans: AttentionSpans,
  nHead: number,
  keep: Float32Array | undefined,
): { out: Float32Array; probs: Float32Array } {
  const { batch, seqLen: t, lo, hi } = spans;
  const d = qkv.length / (batch * t) / 3;
  const row = 3 * d;
  const hd = d / nHead;
  const scale = 1 / Math.sqrt(hd);
  const out = new Float32Array(batch * t * d);
  const probs = new Float32Array(batch * nHead * t * t); // row i holds P[i, lo..hi]
  const q = new Float32Array(t * hd);
  const k = new Float32Array(t * hd);
  const v = new Float32Array(t * hd);
  const s = new Float64Array(t);
  const acc = new Float64Array(hd);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < nHead; h++) {
      gatherHead(qkv, row, h * hd, b, t, hd, q, scale);
      gatherHead(qkv, row, d + h * hd, b, t, hd, k);
      gatherHead(qkv, row, 2 * d + h * hd, b, t, hd, v);
      const pBase = (b * nHead + h) * t * t;
      for (let i = 0; i < t; i++) {
        const j0 = lo[b * t + i]!;
        const j1 = hi[b * t + i]!;
        let mx = -Infinity;
        for (let j = j0; j <= j1; j++) {
          const x = dot(q, i * hd, k, j * hd, hd);
          s[j] = x;
          if (x > mx) mx = x;
        }
        let sum = 0;
        for (let j = j0; j <= j1; j++) {
          const e = Math.exp(s[j]! - mx);
          s[j] = e;
          sum += e;
        }
        const inv = 1 / sum;
        const po = pBase + i * t;
        acc.fill(0);
        for (let j = j0; j <= j1; j++) {
          const p0 = s[j]! * inv;
          probs[po + j] = p0;
          const p = keep ? p0 * keep[po + j]! : p0;
          const vo = j * hd;
          for (let c = 0; c < hd; c++) acc[c]! += p * v[vo + c]!;
        }
        const oo = (b * t + i) * d + h * hd;
        for (let c = 0; c < hd; c++) out[oo + c] = acc[c]!;
      }
    }
  }
  return { out, probs };
}

// With dropout factors m: O_i = sum_j P_ij m_ij V_j, so dV_j gets P_ij m_ij dO_i and the softmax sees
// dP_ij = m_ij (dO_i . V_j); with m = 1 every product below is exact, the same as without dropout.
export function attentionJsBackward(
  dO: Float32Array,
  qkv: Float32Array,
  probs: Float32Array,
  spans: AttentionSpans,
  nHead: number,
  keep: Float32Array | undefined,
): Float32Array {
  const { batch, seqLen: t, lo, hi } = spans;
  const d = dO.length / (batch * t);
  const row = 3 * d;
  const hd = d / nHead;
  const scale = 1 / Math.sqrt(hd);
  const dqkv = new Float32Array(batch * t * row);
  const q = new Float32Array(t * hd);
  const k = new Float32Array(t * hd);
  const v = new Float32Array(t * hd);
  const g = new Float32Array(t * hd);
  const dq = new Float64Array(t * hd);
  const dk = new Float64Array(t * hd);
  const dv = new Float64Array(t * hd);
  const dp = new Float64Array(t);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < nHead; h++) {
      gatherHead(qkv, row, h * hd, b, t, hd, q);
      gatherHead(qkv, row, d + h * hd, b, t, hd, k);
      gatherHead(qkv, row, 2 * d + h * hd, b, t, hd, v);
      gatherHead(dO, d, h * hd, b, t, hd, g);
      dq.fill(0);
      dk.fill(0);
      dv.fill(0);
      const pBase = (b * nHead + h) * t * t;
      for (let i = 0; i < t; i++) {
        const j0 = lo[b * t + i]!;
        const j1 = hi[b * t + i]!;
        const io = i * hd;
        const po = pBase + i * t;
        let pdp = 0;
        for (let j = j0; j <= j1; j++) {
          const jo = j * hd;
          const p0 = probs[po + j]!;
          const m = keep ? keep[po + j]! : 1;
          const p = p0 * m;
          // dP_ij = dO_i . V_j and dV_j += P_ij dO_i in one pass over dO_i (P after dropout)
          let s0 = 0,
            s1 = 0,
            s2 = 0,
            s3 = 0;
          let c = 0;
          for (; c + 3 < hd; c += 4) {
            const g0 = g[io + c]!,
              g1 = g[io + c + 1]!,
              g2 = g[io + c + 2]!,
              g3 = g[io + c + 3]!;
            s0 += g0 * v[jo + c]!;
            s1 += g1 * v[jo + c + 1]!;
            s2 += g2 * v[jo + c + 2]!;
            s3 += g3 * v[jo + c + 3]!;
            dv[jo + c]! += p * g0;
            dv[jo + c + 1]! += p * g1;
            dv[jo + c + 2]! += p * g2;
            dv[jo + c + 3]! += p * g3;
          }
          for (; c < hd; c++) {
            s0 += g[io + c]! * v[jo + c]!;
            dv[jo + c]! += p * g[io + c]!;
          }
          const x = (s0 + s1 + s2 + s3) * m;
          dp[j] = x;
          pdp += x * p0;
        }
        for (let j = j0; j <= j1; j++) {
          const ds = probs[po + j]! * (dp[j]! - pdp) * scale; // softmax backward, then the 1/sqrt(hd)
          const jo = j * hd;
          for (let c = 0; c < hd; c++) {
            dq[io + c]! += ds * k[jo + c]!;
            dk[jo + c]! += ds * q[io + c]!;
          }
        }
      }
      for (let i = 0; i < t; i++) {
        const o = (b * t + i) * row + h * hd;
        for (let c = 0; c < hd; c++) {
          dqkv[o + c] = dq[i * hd + c]!;
          dqkv[o + d + c] = dk[i * hd + c]!;
          dqkv[o + 2 * d + c] = dv[i * hd + c]!;
        }
      }
    }
  }
  return dqkv;
}
