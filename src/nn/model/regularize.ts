// Dropout and DropPath with masks drawn from a seeded generator (never tfjs's global one), so a run
// resumed from a checkpoint draws the same masks. Both scale what they keep by 1 / (1 - rate).
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../runtime/rng.ts';

/** Zeroes each element with probability `rate`. Identity when rate is 0 or there is no rng. */
export function dropout(x: tf.Tensor2D, rate: number, rng: Rng | undefined): tf.Tensor2D {
  if (rate <= 0 || !rng) return x;
  const keep = 1 / (1 - rate);
  const threshold = rate * 0x1_0000_0000;
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.nextU32() >= threshold ? keep : 0;
  return tf.mul(x, tf.tensor2d(mask, x.shape));
}

/** Drops a whole residual branch per sequence (stochastic depth): x is [batch * seqLen, d]. */
export function dropPath(x: tf.Tensor2D, rate: number, batch: number, rng: Rng | undefined): tf.Tensor2D {
  if (rate <= 0 || !rng) return x;
  const seqLen = x.shape[0] / batch;
  const keep = 1 / (1 - rate);
  const mask = new Float32Array(x.shape[0]);
  for (let b = 0; b < batch; b++) mask.fill(rng.next() >= rate ? keep : 0, b * seqLen, (b + 1) * seqLen);
  return tf.mul(x, tf.tensor2d(mask, [x.shape[0], 1]));
}
