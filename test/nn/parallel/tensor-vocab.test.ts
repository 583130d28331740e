// Vocabulary-parallel cross-entropy against the single-device fused head loss (head-loss.ts): the loss,
// dL/dh and every rank's rows of dL/dW, at tp 1, 2 and 4, with the vocabulary (1001) padded.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { headLoss } from '../../../src/nn/head/head-loss.ts';
import { paddedVocabSize } from '../../../src/nn/parallel/tensor-shard.ts';
import { vocabParallelCrossEntropy } from '../../../src/nn/parallel/tensor-vocab.ts';
import { memoryGroup } from '../../../src/runtime/collectives/memory-transport.ts';
import { Rng } from '../../../src/runtime/rng.ts';

const V = 1001,
  D = 16,
  N = 24;

function normal(rng: Rng, n: number, std: number): Float32Array {
  return Float32Array.from(
    { length: n },
    () => std * Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(6.283 * rng.next()),
  );
}

/** largest |a - b| over the largest |b|: relative to the tensor's scale */
function relErr(a: Float32Array, b: Float32Array): number {
  let diff = 0,
    scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

describe('vocabParallelCrossEntropy', () => {
  const rng = new Rng(11);
  const hv = normal(rng, N * D, 1);
  const wv = normal(rng, V * D, 0.5);
  const targets = Int32Array.from({ length: N }, (_, i) =>
    i === 0 ? V - 1 : i === 1 ? 0 : Math.floor(rng.next() * V),
  );
  const weights = Float32Array.from({ length: N }, (_, i) => (i % 5 === 3 ? 0 : 1));
  const h = tf.tensor2d(hv, [N, D]);
  const w = tf.tensor2d(wv, [V, D]);
  const ref = tf.tidy(() => {
    const f = (a: tf.Tensor, b: tf.Tensor) => headLoss(a as tf.Tensor2D, b as tf.Tensor2D, { targets, weights });
    const { value, grads } = tf.valueAndGrads(f)([h, w]);
    return {
      loss: value.dataSync()[0]!,
      dh: grads[0]!.dataSync() as Float32Array,
      dw: grads[1]!.dataSync() as Float32Array,
    };
  });

  it('the reference is the weighted mean of log-sum-exp minus the target logit (float64 by hand)', () => {
    let sum = 0,
      wsum = 0;
    for (let i = 0; i < N; i++) {
      const z = Array.from({ length: V }, (_, v) => {
        let s = 0;
        for (let c = 0; c < D; c++) s += hv[i * D + c]! * wv[v * D + c]!;
        return s;
      });
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((a, x) => a + Math.exp(x - m), 0));
      sum += weights[i]! * (lse - z[targets[i]!]!);
      wsum += weights[i]!;
    }
    expect(Math.abs(ref.loss - sum / wsum) / ref.loss).toBeLessThan(1e-6);
  });

  for (const tp of [1, 2, 4]) {
    it(`tp ${tp}: loss, dh and the shards of dW equal the full cross-entropy's within 1e-6`, async () => {
      const rows = paddedVocabSize(V, tp) / tp;
      const padded = new Float32Array(rows * tp * D);
      padded.set(wv);
      const group = memoryGroup(tp);
      const out = await Promise.all(
        group.map((c) =>
          vocabParallelCrossEntropy(
            h,
            tf.tensor2d(padded.subarray(c.rank * rows * D, (c.rank + 1) * rows * D), [rows, D]),
            { targets, weights, vocabSize: V },
            c,
          ),
        ),
      );
      const dw = new Float32Array(rows * tp * D);
      for (const [r, o] of out.entries()) {
        expect(Math.abs(o.loss - ref.loss) / ref.loss).toBeLessThan(1e-6);
        expect(relErr(o.dh.dataSync() as Float32Array, ref.dh)).toBeLessThan(1e-6);
        dw.set(o.dw.dataSync() as Float32Array, r * rows * D);
      }
      expect(relErr(dw.subarray(0, V * D), ref.dw)).toBeLessThan(1e-6);
      // the padding rows never enter the softmax: no gradient
      expect(dw.subarray(V * D).every((x) => x === 0)).toBe(true);
      for (const o of out) tf.dispose([o.dh, o.dw]);
    });
  }
});
