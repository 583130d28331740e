// Matrix products whose gradients issue only plain (untransposed) 2-D matmuls. On tfjs-backend-wasm
// only a plain 2-D product reaches XNNPACK; transpose flags or a batch dimension fall back to a naive
// loop 10-70x slower (measured here). Transposing an operand explicitly first is far cheaper.
import * as tf from '@tensorflow/tfjs';
import { customOp } from './js-kernel.ts';

/** Sum over rows of a 2-D tensor: [n, m] -> [m]. A [1, n] x [n, m] product: tf.sum over axis 0
 * transposes first and is several times slower on wasm. */
export function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.matMul(tf.ones([1, x.shape[0]]), x).reshape([x.shape[1]]));
}

/** y = x W + b for x [n, k], W [k, m] (GPT-2 Conv1D layout), b [m]. */
export const linear = customOp<tf.Tensor2D>(([x, w, b], save) => {
  const x2 = x as tf.Tensor2D;
  const w2 = w as tf.Tensor2D;
  save([x2, w2]);
  return {
    value: tf.fused.matMul({ a: x2, b: w2, bias: b }) as tf.Tensor2D,
    grad: (dy, saved) => {
      const g = dy as tf.Tensor2D;
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(g, ws.transpose()), tf.matMul(xs.transpose(), g), sumRows(g)];
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
