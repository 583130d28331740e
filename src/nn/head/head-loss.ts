// Output head and cross-entropy fused, tied or not: the loss of rows h [n, d] against the head
// W [V, d] and its gradients, without ever holding all n x V logits (a 50k vocabulary times 1024
// rows is 200 MB per copy, and the wasm heap never shrinks). head-rows.ts does the arithmetic in
// chunks of rows and blocks of the vocabulary, forming the gradients while a chunk's probabilities
// exist, so nothing is recomputed; chunks are shared with the head helper thread when one runs.
// Here: checking, splitting the work, and assembling dW = (dW^T)^T plus the rank-one one-hot and
// smoothing terms. For training the loss is a tf scalar with a custom gradient (formed eagerly).
import * as tf from '@tensorflow/tfjs';
import { headHelper, type HelperShare } from './head-helper.ts';
import { disposeBlocks, headBlocks, headRows, type HeadRowsOut } from './head-rows.ts';
import { rowsPerChunkFor, VOCAB_BLOCK, type HeadTuning } from './head-chunks.ts';

// importers of head-loss.ts keep taking these from here
export { headChunkCount, type HeadTuning } from './head-chunks.ts';
import { customOp, fromF32, readF32, takeF32 } from '../backend/js-kernel.ts';
import { loadNative } from '../backend/native/native.ts';

export interface HeadLossOptions extends HeadTuning {
  /** target token per row of h */
  targets: Int32Array;
  /** per-row weights (0 skips a row); loss = sum(w l) / sum(w). Default: all 1. */
  weights?: Float32Array;
  labelSmoothing?: number;
}

interface HeadPass {
  loss: number;
  /** each row's weighted loss s_r loss_r (the loss of row r itself when unscaled) */
  rows: Float64Array;
  dh?: tf.Tensor2D;
  dw?: tf.Tensor2D;
}

function check(h: tf.Tensor2D, w: tf.Tensor2D, o: HeadLossOptions): void {
  const [n, d] = h.shape;
  if (w.shape[1] !== d) throw new Error(`head loss: hidden width ${d} does not match the head matrix [${w.shape}]`);
  if (o.targets.length !== n)
    throw new Error(`head loss: ${o.targets.length} targets for ${n} rows; give one target per row`);
  if (o.weights && o.weights.length !== n) throw new Error(`head loss: ${o.weights.length} weights for ${n} rows`);
  const v = w.shape[0];
  for (let i = 0; i < n; i++) {
    const y = o.targets[i]!;
    if (!(y >= 0 && y < v)) throw new Error(`head loss: target ${y} at row ${i} is outside the vocabulary [0, ${v})`);
  }
}

/** At most this many chunks go through the helper: each keeps a [d, V] slot until the ordered sum. */
const MAX_SHARED_CHUNKS = 8;

/** Loss (and, with `grad`, dL/dh and dL/dW) of rows h [n, d] against the head W [V, d]. */
function headPass(
  h: tf.Tensor2D,
  w: tf.Tensor2D,
  o: HeadLossOptions,
  grad: boolean,
  unscaled: boolean | Float32Array = false,
): HeadPass {
  check(h, w, o);
  const [n, d] = h.shape;
  const v = w.shape[0];
  const eps = o.labelSmoothing ?? 0;
  const weights = o.weights ?? new Float32Array(n).fill(1);
  let weightSum = 0;
  for (let i = 0; i < n; i++) weightSum += weights[i]!;
  // unscaled: each row's own loss; a Float32Array: each row's scale as given
  const scale =
    unscaled instanceof Float32Array
      ? unscaled
      : unscaled
        ? new Float32Array(n).fill(1)
        : Float32Array.from(weights, (x) => (weightSum > 0 ? x / weightSum : 0));
  const rowsPerChunk = rowsPerChunkFor(n, v, o);
  const chunks = Math.ceil(n / rowsPerChunk);
  const vocabBlock = o.vocabBlock ?? VOCAB_BLOCK;
  const wMean = eps > 0 ? takeF32(tf.mean(w, 0)) : undefined;
  const helper = o.threads !== 1 && chunks > 1 && chunks <= MAX_SHARED_CHUNKS ? headHelper() : undefined;
  // with the native kernels every chunk goes through head.c, which sums dW in W's own [V, d] layout
  const vocabMajor = loadNative() !== undefined;
  const out: HeadRowsOut = { loss: new Float64Array(n), vocabMajor };
  if (grad) out.dh = new Float32Array(n * d);
  let share: HelperShare | undefined;
  const wv = readF32(w);
  const blocks = vocabMajor ? [] : headBlocks(w, vocabBlock, wv);
  try {
    const job = { h, w, blocks, targets: o.targets, scale, eps, wMean, rowsPerChunk, wValues: wv };
    if (helper) {
      share = helper.run(
        {
          n,
          d,
          v,
          h: readF32(h),
          w: wv,
          targets: o.targets,
          scale,
          eps,
          wMean,
          rowsPerChunk,
          vocabBlock,
          grad,
          vocabMajor,
        },
        (slots, nextChunk) =>
          headRows({ ...job, nextChunk }, Object.assign(out, grad ? { dwT: slots, dwTSlots: true } : {})),
      );
    } else {
      if (grad) out.dwT = new Float32Array(d * v);
      let next = 0;
      headRows({ ...job, nextChunk: () => next++ }, out);
    }
  } finally {
    disposeBlocks(blocks);
  }
  // the helper's rows; then every sum in a fixed order, whichever thread did which chunk
  if (share) {
    for (const k of share.chunks) {
      const [r0, r1] = [k * rowsPerChunk, Math.min(n, (k + 1) * rowsPerChunk)];
      out.loss.set(share.loss.subarray(r0, r1), r0);
      out.dh?.set(share.dh.subarray(r0 * d, r1 * d), r0 * d);
    }
  }
  let loss = 0;
  for (let i = 0; i < n; i++) loss += out.loss[i]!;
  if (!out.dh || !out.dwT) return { loss, rows: out.loss };
  const hv = readF32(h);
  const smooth = new Float64Array(d); // eps / V sum_r s_r h_r
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) smooth[c]! += (eps / v) * scale[i]! * hv[i * d + c]!;
  // dW = (dW^T)^T (chunks summed in order, rounded to float32 after each sum as a float32 running sum
  // would be) - the smoothing term on every row - (1 - eps) s_r h_r at each target row
  const a = out.dwT;
  const dw = vocabMajor ? vocabMajorSum(a, chunks, share !== undefined, v * d) : transposedSum(a, chunks, share, v, d);
  if (eps > 0) for (let t = 0; t < v; t++) for (let c = 0; c < d; c++) dw[t * d + c] = dw[t * d + c]! - smooth[c]!;
  for (let i = 0; i < n; i++) {
    const f = (1 - eps) * scale[i]!;
    const row = o.targets[i]! * d;
    for (let c = 0; c < d; c++) dw[row + c]! -= f * hv[i * d + c]!;
  }
  return { loss, rows: out.loss, dh: fromF32<tf.Rank.R2>(out.dh, [n, d]), dw: fromF32<tf.Rank.R2>(dw, [v, d]) };
}

/** The chunks' [d, V] sums, in order, as [V, d]. */
function transposedSum(a: Float32Array, chunks: number, share: HelperShare | undefined, v: number, d: number) {
  const dw = new Float32Array(v * d);
  const slotLen = d * v;
  for (let t = 0; t < v; t++) {
    for (let c = 0; c < d; c++) {
      let x = a[c * v + t]!;
      if (share) for (let k = 1; k < chunks; k++) x = Math.fround(x + a[k * slotLen + c * v + t]!);
      dw[t * d + c] = x;
    }
  }
  return dw;
}

/** The chunks' [V, d] sums, in order (one array already holds the sum when no helper took part). */
function vocabMajorSum(a: Float32Array, chunks: number, slots: boolean, len: number): Float32Array {
  if (!slots) return a;
  const dw = a.slice(0, len);
  for (let k = 1; k < chunks; k++) {
    const s = a.subarray(k * len, (k + 1) * len);
    for (let i = 0; i < len; i++) dw[i] = dw[i]! + s[i]!;
  }
  return dw;
}

/** Mean cross-entropy of the head over the rows, without gradients (evaluation). */
export function headLossValue(h: tf.Tensor2D, w: tf.Tensor2D, o: HeadLossOptions): number {
  return headPass(h, w, o, false).loss;
}

/** Each row's own cross-entropy -log p(target) (no weights, no smoothing): the evaluation harness's
 * rolling log-likelihood, through the same fused pass (and helper thread) as training's head. */
export function headRowLosses(
  h: tf.Tensor2D,
  w: tf.Tensor2D,
  targets: Int32Array,
  tuning: HeadTuning = {},
): Float64Array {
  return headPass(h, w, { ...tuning, targets }, false, true).rows;
}

/** dL/dh and dL/dW of L = sum_r scale_r * (-log p(target_r)), each row's scale given as is (any sign,
 * not normalised): the backward pass of a function of per-row log-probs (head-logprob-sums.ts). */
export function headScaledGrads(
  h: tf.Tensor2D,
  w: tf.Tensor2D,
  targets: Int32Array,
  scale: Float32Array,
  tuning: HeadTuning = {},
): { dh: tf.Tensor2D; dw: tf.Tensor2D } {
  const r = headPass(h, w, { ...tuning, targets }, true, scale);
  return { dh: r.dh!, dw: r.dw! };
}

/** The same loss as a scalar tensor that backpropagates to h and W (gradients formed eagerly). */
export function headLoss(h: tf.Tensor2D, w: tf.Tensor2D, o: HeadLossOptions): tf.Scalar {
  const op = customOp<tf.Scalar>(([ht, wt], save) => {
    const r = headPass(ht as tf.Tensor2D, wt as tf.Tensor2D, o, true);
    save([r.dh!, r.dw!]);
    return {
      value: tf.scalar(r.loss),
      grad: (dy, saved) => {
        const k = readF32(dy)[0]!;
        return saved.map((g) => (k === 1 ? g.clone() : tf.mul(g, k)));
      },
    };
  });
  return op(h, w);
}
