// Next-token scores of hidden rows against the output head, for evaluation: per row the target's
// log-probability, the most likely token and its log-probability, without holding all n x V logits.
// The vocabulary goes in blocks (head-rows.ts's blocks): each block's log-sum-exp, max and argmax come
// from tf ops on [rows, block] logits, the blocks are combined in float64, and the target's logit is
// the dot product h . W[y] in float64, as the training head computes its loss. The same arithmetic per
// row whatever the other rows are: scores do not depend on batching.
import * as tf from '@tensorflow/tfjs';
import { readF32, takeF32 } from '../backend/js-kernel.ts';
import { disposeBlocks, headBlocks, type HeadBlock } from '../head/head-rows.ts';

export interface HeadScores {
  /** log p(target) per row */
  logp: Float64Array;
  /** argmax token per row (the first of equal maxima) */
  best: Int32Array;
  /** log p(best) per row */
  bestLogp: Float64Array;
}

/** W [V, d] in vocabulary blocks, made once and reused for many calls; dispose() when done. */
export class HeadBlocks {
  readonly blocks: HeadBlock[];
  readonly w: Float32Array;
  readonly d: number;
  constructor(w: tf.Tensor2D) {
    this.w = Float32Array.from(readF32(w));
    this.d = w.shape[1];
    this.blocks = headBlocks(w, undefined, this.w);
  }
  dispose(): void {
    disposeBlocks(this.blocks);
  }
}

export function headScores(h: tf.Tensor2D, head: HeadBlocks, targets: Int32Array): HeadScores {
  const [n, d] = h.shape;
  if (targets.length !== n) throw new Error(`head scores: ${targets.length} targets for ${n} rows`);
  const hv = Float32Array.from(readF32(h));
  const per = head.blocks.map((b) => {
    const [lse, mx, am] = tf.tidy(() => {
      const logits = tf.matMul(h, b.wT);
      return [tf.logSumExp(logits, -1), tf.max(logits, -1), tf.argMax(logits, -1)] as const;
    });
    const arg = Int32Array.from(am.dataSync() as Int32Array);
    am.dispose();
    return { v0: b.v0, lse: takeF32(lse), max: takeF32(mx), arg };
  });
  const logp = new Float64Array(n);
  const best = new Int32Array(n);
  const bestLogp = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (const p of per) m = Math.max(m, p.lse[i]!);
    let s = 0;
    let top = -Infinity;
    let arg = 0;
    for (const p of per) {
      s += Math.exp(p.lse[i]! - m);
      if (p.max[i]! > top) {
        top = p.max[i]!;
        arg = p.v0 + p.arg[i]!;
      }
    }
    const lse = m + Math.log(s);
    const y = targets[i]!;
    let xy = 0;
    for (let c = 0; c < d; c++) xy += hv[i * d + c]! * head.w[y * d + c]!;
    logp[i] = xy - lse;
    best[i] = arg;
    bestLogp[i] = top - lse;
  }
  return { logp, best, bestLogp };
}
