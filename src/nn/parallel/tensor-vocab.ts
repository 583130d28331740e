// Vocabulary-parallel cross-entropy (Megatron-LM's vocab_parallel_cross_entropy): each tensor-parallel
// rank holds rows [rank Vl, (rank + 1) Vl) of the head matrix and computes only its slice of the logits.
// The row maxima and the sums of exponentials combine across ranks (an all-gather of the maxima, as
// the collectives have no max, then one all-reduce of the sums together with the target logits, which
// only the rank that owns a target contributes). Rows past the real vocabulary (padding) never enter
// the softmax. The gradient dh is a partial sum per rank and is all-reduced; dW stays with the shard.
import * as tf from '@tensorflow/tfjs';
import type { Collective } from '../../runtime/collectives/collective.ts';

export interface VocabLossOptions {
  /** target token per row of h (global ids, below vocabSize) */
  targets: Int32Array;
  /** per-row weights (0 skips a row); loss = sum(w l) / sum(w). Default: all 1. */
  weights?: Float32Array;
  /** the real vocabulary: head rows at or past it are padding */
  vocabSize: number;
}

export interface VocabLossResult {
  /** the mean loss, the same on every rank */
  loss: number;
  /** dL/dh [n, d], all-reduced over the group: the same on every rank */
  dh: tf.Tensor2D;
  /** dL/dW for this rank's rows [Vl, d] */
  dw: tf.Tensor2D;
}

/** Loss and gradients of rows h [n, d] (the same on every rank) against this rank's head rows w [Vl, d]. */
export async function vocabParallelCrossEntropy(
  h: tf.Tensor2D,
  w: tf.Tensor2D,
  o: VocabLossOptions,
  tp: Collective,
): Promise<VocabLossResult> {
  const [n, d] = h.shape;
  const vl = w.shape[0];
  if (w.shape[1] !== d)
    throw new Error(`vocab-parallel loss: hidden width ${d} does not match the head rows [${w.shape}]`);
  if (o.targets.length !== n) throw new Error(`vocab-parallel loss: ${o.targets.length} targets for ${n} rows`);
  if (o.weights && o.weights.length !== n)
    throw new Error(`vocab-parallel loss: ${o.weights.length} weights for ${n} rows`);
  if (vl * tp.worldSize < o.vocabSize)
    throw new Error(`vocab-parallel loss: ${tp.worldSize} ranks x ${vl} rows cannot hold vocabulary ${o.vocabSize}`);
  for (let i = 0; i < n; i++) {
    const y = o.targets[i]!;
    if (!(y >= 0 && y < o.vocabSize))
      throw new Error(`vocab-parallel loss: target ${y} at row ${i} is outside the vocabulary [0, ${o.vocabSize})`);
  }
  const start = tp.rank * vl;
  const real = Math.max(0, Math.min(vl, o.vocabSize - start)); // this rank's columns that are real tokens
  // explicit transposes: a transposed operand sends wasm's product to a slow naive loop (matmul.ts)
  const zt = tf.tidy(() => tf.matMul(h, w.transpose()));
  const z = Float32Array.from(zt.dataSync() as Float32Array);
  zt.dispose();

  // the row maxima of every rank, side by side: rank r's in [r n, (r + 1) n) (shardRange's split)
  const maxes = new Float32Array(tp.worldSize * n).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < real; j++) m = Math.max(m, z[i * vl + j]!);
    maxes[tp.rank * n + i] = m;
  }
  await tp.allGather(maxes);
  const mx = new Float32Array(n).fill(-Infinity);
  for (let r = 0; r < tp.worldSize; r++) for (let i = 0; i < n; i++) mx[i] = Math.max(mx[i]!, maxes[r * n + i]!);

  // [sum of exp(z - max) over this rank's columns | the target's logit where this rank owns it];
  // z keeps the exponentials afterwards, for the gradient
  const sums = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = o.targets[i]! - start;
    if (t >= 0 && t < real) sums[n + i] = z[i * vl + t]!;
    let s = 0;
    for (let j = i * vl; j < i * vl + real; j++) {
      const e = Math.exp(z[j]! - mx[i]!);
      z[j] = e;
      s += e;
    }
    sums[i] = s;
  }
  await tp.allReduce(sums, 'sum');

  const weights = o.weights ?? new Float32Array(n).fill(1);
  let weightSum = 0;
  for (let i = 0; i < n; i++) weightSum += weights[i]!;
  let loss = 0;
  const dz = new Float32Array(n * vl); // padding columns keep a zero gradient
  for (let i = 0; i < n; i++) {
    const scale = weightSum > 0 ? weights[i]! / weightSum : 0;
    const sum = sums[i]!;
    loss += scale * (Math.log(sum) + mx[i]! - sums[n + i]!);
    for (let j = i * vl; j < i * vl + real; j++) dz[j] = (scale * z[j]!) / sum;
    const t = o.targets[i]! - start;
    if (t >= 0 && t < real) dz[i * vl + t]! -= scale;
  }
  const [dhPart, dw] = tf.tidy(() => {
    const g = tf.tensor2d(dz, [n, vl]);
    return [tf.matMul(g, w), tf.matMul(g.transpose(), h)] as [tf.Tensor2D, tf.Tensor2D];
  });
  const dh = Float32Array.from(dhPart.dataSync() as Float32Array);
  dhPart.dispose();
  await tp.allReduce(dh, 'sum');
  return { loss, dh: tf.tensor2d(dh, [n, d]), dw };
}
