// LayerNorm over the last axis of [n, d]: y = (x - mean) / sqrt(var + eps) * gamma + beta, the
// biased variance as PyTorch. A fused JS kernel where tensors are local, tf ops (autodiff) elsewhere.
import * as tf from '@tensorflow/tfjs';
import { customOp, fromF32, readF32 } from '../backend/js-kernel.ts';
import { loadNative } from '../backend/native/native.ts';

export function layerNorm(
  x: tf.Tensor2D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  js: boolean,
): tf.Tensor2D {
  return js ? layerNormJs(x, gamma, beta, eps) : layerNormTf(x, gamma, beta, eps);
}

function layerNormTf(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const xc = tf.sub(x, tf.mean(x, -1, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps));
    return tf.add(tf.mul(tf.mul(xc, rstd), gamma), beta);
  });
}

function layerNormJs(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const [n, d] = x.shape;
  const op = customOp<tf.Tensor2D>((inputs) => {
    const [xv, g, b] = inputs.map(readF32) as [Float32Array, Float32Array, Float32Array];
    const xhat = new Float32Array(n * d);
    const rstd = new Float64Array(n);
    const y = new Float32Array(n * d);
    const native = loadNative();
    if (native) {
      // the same loops compiled (src/nn/backend/native/elementwise.c)
      native.layerNormForward(xv, g, b, eps, y, xhat, rstd);
      return {
        value: fromF32(y, [n, d]),
        grad: (dy) => {
          const dx = new Float32Array(n * d);
          const dg = new Float64Array(d);
          const db = new Float64Array(d);
          native.layerNormBackward(readF32(dy), g, xhat, rstd, dx, dg, db);
          return [fromF32(dx, [n, d]), fromF32(Float32Array.from(dg), [d]), fromF32(Float32Array.from(db), [d])];
        },
      };
    }
    for (let r = 0; r < n; r++) {
      const o = r * d;
      let mean = 0;
      for (let j = 0; j < d; j++) mean += xv[o + j]!;
      mean /= d;
      let v = 0;
      for (let j = 0; j < d; j++) {
        const c = xv[o + j]! - mean;
        v += c * c;
      }
      const rs = 1 / Math.sqrt(v / d + eps);
      rstd[r] = rs;
      for (let j = 0; j < d; j++) {
        const h = (xv[o + j]! - mean) * rs;
        xhat[o + j] = h;
        y[o + j] = h * g[j]! + b[j]!;
      }
    }
    return {
      value: fromF32(y, [n, d]),
      grad: (dy) => {
        const dyv = readF32(dy);
        const dx = new Float32Array(n * d);
        const dg = new Float64Array(d);
        const db = new Float64Array(d);
        for (let r = 0; r < n; r++) {
          const o = r * d;
          let a = 0;
          let c = 0;
          for (let j = 0; j < d; j++) {
            const gy = dyv[o + j]! * g[j]!;
            a += gy;
            c += gy * xhat[o + j]!;
            dg[j]! += dyv[o + j]! * xhat[o + j]!;
            db[j]! += dyv[o + j]!;
          }
          a /= d;
          c /= d;
          const rs = rstd[r]!;
          for (let j = 0; j < d; j++) dx[o + j] = rs * (dyv[o + j]! * g[j]! - a - xhat[o + j]! * c);
        }
        return [fromF32(dx, [n, d]), fromF32(Float32Array.from(dg), [d]), fromF32(Float32Array.from(db), [d])];
      },
    };
  });
  return op(x, gamma, beta);
}
