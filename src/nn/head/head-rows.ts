// The fused head + cross-entropy over chunks of rows, the part that may run on two threads: the
// caller hands out chunk indices (a plain counter, or an atomic one shared with the helper thread,
// so a busy core simply takes fewer chunks). Within a chunk the vocabulary goes in blocks of
// VOCAB_BLOCK: the products against W then reduce over a block that stays in cache (P W with the
// whole 50k vocabulary as the inner dimension ran at 16 GFLOP/s here, in blocks at 21).
// Per block b and row r: p_b = softmax of the block's logits, lse_b = its log-sum-exp; then
//   lse = logsumexp_b(lse_b);  the row's softmax restricted to block b is c_b p_b, c_b = exp(lse_b - lse)
//   loss_r = (1 - eps) (lse - x_y) + eps (lse - mean_v x_v)        (label smoothing, as PyTorch)
//   dlogits = c_b p_b - (1 - eps) onehot(y) - eps / V
// so dh_r = s_r (sum_b c_b p_b W_b - (1 - eps) W[y] - eps mean(W)) and dW_b^T += (c_b s h)^T p_b; the
// factors c_b and s_r scale the small operands, never p. The one-hot and smoothing parts of dW are
// rank-one corrections the caller applies once (head-loss.ts).
import * as tf from '@tensorflow/tfjs';
import { fromF32, peekF32, readF32, takeF32 } from '../backend/js-kernel.ts';
import { loadNative, type NativeAddon } from '../backend/native/native.ts';
import { VOCAB_BLOCK } from './head-chunks.ts';

export { VOCAB_BLOCK } from './head-chunks.ts';

/** W in vocabulary blocks, each also transposed (logits as a plain product); made once per pass. */
export interface HeadBlock {
  v0: number;
  size: number;
  w: tf.Tensor2D;
  wT: tf.Tensor2D;
}

/** `values` are W's, when the caller has them; tf.slice is avoided: on wasm each contiguous slice
 * copies the whole source out of the heap first. */
export function headBlocks(w: tf.Tensor2D, blockSize = VOCAB_BLOCK, values?: Float32Array): HeadBlock[] {
  const [v, d] = w.shape;
  const all = values ?? readF32(w);
  const blocks: HeadBlock[] = [];
  for (let v0 = 0; v0 < v; v0 += blockSize) {
    const size = Math.min(blockSize, v - v0);
    const wb = size === v ? (w.clone() as tf.Tensor2D) : tf.tensor2d(all.subarray(v0 * d, (v0 + size) * d), [size, d]);
    blocks.push({ v0, size, w: wb, wT: tf.transpose(wb) as tf.Tensor2D });
  }
  return blocks;
}

export const disposeBlocks = (blocks: HeadBlock[]): void => {
  for (const b of blocks) tf.dispose([b.w, b.wT]);
};

export interface HeadRowsJob {
  /** all rows [n, d], the head [V, d] and its blocks */
  h: tf.Tensor2D;
  w: tf.Tensor2D;
  blocks: HeadBlock[];
  targets: Int32Array;
  /** s_r = weight_r / sum(weights): the loss sum and every gradient row are scaled by it */
  scale: Float32Array;
  eps: number;
  /** mean over the vocabulary of W's rows, [d]; needed when eps > 0 */
  wMean?: Float32Array;
  rowsPerChunk: number;
  /** the next chunk to do, or a number >= the chunk count when none is left */
  nextChunk: () => number;
  /** W's values, when the caller has them (the native kernel reads them) */
  wValues?: Float32Array;
}

export interface HeadRowsOut {
  /** s_r loss_r for each row of the chunks done (others untouched), [n] */
  loss: Float64Array;
  /** dh rows of the chunks done (others untouched), [n, d] */
  dh?: Float32Array;
  /** (s h)^T P of the chunks done: added into one zeroed [d, V] array, or, with `dwTSlots`,
   * written to slot k ([d, V] at offset k d V) for chunk k so that the caller can sum the chunks
   * in a fixed order whichever thread did them (bit-for-bit reproducible steps) */
  dwT?: Float32Array;
  dwTSlots?: boolean;
  /** the same sums in W's layout, [V, d] per slot (the native kernel writes them so; headPass asks
   * for it with `vocabMajor` when the addon is loaded) */
  vocabMajor?: boolean;
}

/** Runs chunks until `nextChunk` runs out; gradients are written into `out` when it has them; with
 * `out.vocabMajor`, by the native kernel. */
export function headRows(job: HeadRowsJob, out: HeadRowsOut): void {
  const native = loadNative();
  if (out.vocabMajor) {
    if (!native) throw new Error('headRows: the [V, d] gradient layout needs the native kernels, which are not loaded');
    return headRowsNative(native, job, out);
  }
  const { h, w, blocks, targets, scale, eps, wMean } = job;
  const [n, d] = h.shape;
  const v = w.shape[0];
  const chunks = Math.ceil(n / job.rowsPerChunk);
  const wMeanT = wMean ? tf.tensor2d(wMean, [d, 1]) : undefined;
  for (let k = job.nextChunk(); k < chunks; k = job.nextChunk()) {
    const r0 = k * job.rowsPerChunk;
    const r = Math.min(job.rowsPerChunk, n - r0);
    tf.tidy(() => {
      const hc = n === r ? h : tf.slice(h, [r0, 0], [r, d]);
      const hv = readF32(hc);
      const wy = readF32(tf.gather(w, tf.tensor1d(targets.subarray(r0, r0 + r), 'int32')));
      const xm = wMeanT ? readF32(tf.matMul(hc, wMeanT)) : undefined;
      // pass over the blocks: probabilities kept, logits dropped, each block's log-sum-exp
      const ps: tf.Tensor2D[] = [];
      const lseB = blocks.map((b) => {
        const [p, lse] = tf.tidy(() => {
          const logits = tf.matMul(hc, b.wT);
          const p = tf.softmax(logits) as tf.Tensor2D;
          return [p, tf.sub(tf.max(logits, -1), tf.log(tf.max(p, -1)))] as const; // max p = exp(max x - lse)
        });
        ps.push(p);
        return takeF32(lse);
      });
      const lse = new Float64Array(r);
      for (let i = 0; i < r; i++) {
        let mx = -Infinity;
        for (const l of lseB) mx = Math.max(mx, l[i]!);
        let s = 0;
        for (const l of lseB) s += Math.exp(l[i]! - mx);
        lse[i] = mx + Math.log(s);
        let xy = 0; // the target's logit h_i . W[y_i]
        for (let c = 0; c < d; c++) xy += hv[i * d + c]! * wy[i * d + c]!;
        out.loss[r0 + i] = scale[r0 + i]! * ((1 - eps) * (lse[i]! - xy) + (xm ? eps * (lse[i]! - xm[i]!) : 0));
      }
      const dwT = out.dwT;
      if (!dwT || !out.dh) return;
      const slot = out.dwTSlots ? k * d * v : -1;
      const pw = new Float64Array(r * d); // sum_b c_b p_b W_b
      blocks.forEach((b, bi) => {
        const cb = Float64Array.from(lseB[bi]!, (l, i) => Math.exp(l - lse[i]!));
        const hs = new Float32Array(r * d); // rows c_b s h
        for (let i = 0; i < r; i++) {
          const f = cb[i]! * scale[r0 + i]!;
          for (let c = 0; c < d; c++) hs[i * d + c] = f * hv[i * d + c]!;
        }
        peekF32(tf.matMul(fromF32<tf.Rank.R2>(hs, [r, d]).transpose(), ps[bi]!), (g) => {
          // [d, size]
          for (let c = 0; c < d; c++) {
            const src = g.subarray(c * b.size, (c + 1) * b.size);
            if (slot >= 0) dwT.set(src, slot + c * v + b.v0);
            else for (let j = 0, dst = c * v + b.v0; j < b.size; j++) dwT[dst + j]! += src[j]!;
          }
        });
        peekF32(tf.matMul(ps[bi]!, b.w), (pwb) => {
          for (let i = 0; i < r; i++) for (let c = 0; c < d; c++) pw[i * d + c]! += cb[i]! * pwb[i * d + c]!;
        });
      });
      for (let i = 0; i < r; i++) {
        const si = scale[r0 + i]!;
        for (let c = 0; c < d; c++) {
          const j = i * d + c;
          out.dh[(r0 + i) * d + c] = si * (pw[j]! - (1 - eps) * wy[j]! - (wMean ? eps * wMean[c]! : 0));
        }
      }
    });
  }
  wMeanT?.dispose();
}

/** The same chunks through the native kernel (src/nn/backend/native/head.c): one [rows, V] product,
 * softmax and the two gradient products per chunk in BLAS (blocked over the vocabulary in C). */
function headRowsNative(native: NativeAddon, job: HeadRowsJob, out: HeadRowsOut): void {
  const [n, d] = job.h.shape;
  const v = job.w.shape[0];
  const hv = readF32(job.h);
  const wv = job.wValues ?? readF32(job.w);
  const chunks = Math.ceil(n / job.rowsPerChunk);
  for (let k = job.nextChunk(); k < chunks; k = job.nextChunk()) {
    const r0 = k * job.rowsPerChunk;
    const r1 = Math.min(n, r0 + job.rowsPerChunk);
    const grad = out.dh !== undefined && out.dwT !== undefined;
    const dw = !grad ? null : out.dwTSlots ? out.dwT!.subarray(k * d * v, (k + 1) * d * v) : out.dwT!;
    native.headChunk(
      hv.subarray(r0 * d, r1 * d),
      wv,
      job.targets.subarray(r0, r1),
      job.scale.subarray(r0, r1),
      job.eps,
      job.wMean ?? null,
      out.loss.subarray(r0, r1),
      grad ? out.dh!.subarray(r0 * d, r1 * d) : null,
      dw,
      !out.dwTSlots,
    );
  }
}
