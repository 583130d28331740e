// GELU with GPT-2's tanh approximation: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3).
// The JS kernel uses the identical form x * sigmoid(2u) (0.5 (1 + tanh u) = sigmoid(2u)), one exp
// per element, and a fused derivative; the tf path is plain ops with autodiff.
import * as tf from '@tensorflow/tfjs';
import { customOp, fromF32, readF32 } from '../backend/js-kernel.ts';
import { loadNative } from '../backend/native/native.ts';

const K = Math.sqrt(2 / Math.PI);
const C = 0.044715;

export function gelu(x: tf.Tensor2D, js: boolean): tf.Tensor2D {
  return js ? geluJs(x) : geluTf(x);
}

function geluTf(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const u = tf.mul(K, tf.add(x, tf.mul(C, tf.pow(x, 3))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(u)));
  });
}

const geluJs = customOp<tf.Tensor2D>(([xt]) => {
  if (!xt) throw new Error('gelu: no input');
  const xv = readF32(xt);
  const n = xv.length;
  const s = new Float32Array(n); // sigmoid(2u), kept for the derivative
  const y = new Float32Array(n);
  const native = loadNative();
  if (native) {
    // the same loops compiled (src/nn/backend/native/elementwise.c)
    native.geluForward(xv, y, s);
    return {
      value: fromF32(y, xt.shape),
      grad: (dy) => {
        const dx = new Float32Array(n);
        native.geluBackward(xv, s, readF32(dy), dx);
        return [fromF32(dx, xt.shape)];
      },
    };
  }
  for (let i = 0; i < n; i++) {
    const x = xv[i]!;
    const sg = 1 / (1 + Math.exp(-2 * K * (x + C * x * x * x)));
    s[i] = sg;
    y[i] = x * sg;
  }
  return {
    value: fromF32(y, xt.shape),
    grad: (dy) => {
      const g = readF32(dy);
      const dx = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const x = xv[i]!;
        const sg = s[i]!;
        // d/dx [x sigmoid(2u)] = sigmoid(2u) + x sigmoid(2u)(1 - sigmoid(2u)) 2 u'
        dx[i] = g[i]! * (sg + x * sg * (1 - sg) * 2 * K * (1 + 3 * C * x * x));
      }
      return [fromF32(dx, xt.shape)];
    },
  };
}) as (x: tf.Tensor2D) => tf.Tensor2D;
