// Per-sequence sums of log p(target) through the fused output head (head-loss.ts), differentiable: DPO
// compares such sums between policy and reference, and materialising [tokens, V] logits for them (50k
// vocabulary) made a DPO step ~10x slower than a causal one on the same rows. Forward: each row's
// -log p from the fused pass, summed by group. Backward: the upstream gradient of group b scales its
// rows (d sum_b / d row loss = -1), and one fused pass with those scales forms dh and dW, so no
// [tokens, V] tensor exists in either direction; the cost is about two head passes.
import * as tf from '@tensorflow/tfjs';
import { customOp, readF32 } from '../backend/js-kernel.ts';
import { headRowLosses, headScaledGrads, type HeadTuning } from './head-loss.ts';

/** sums[g] = sum over rows r with group[r] = g of log p(targets[r] | h[r]) under the head `w` [V, d]:
 * a [groups] tensor with gradients to h and w. */
export function headLogprobSums(
  h: tf.Tensor2D,
  w: tf.Tensor2D,
  targets: Int32Array,
  group: Int32Array,
  groups: number,
  tuning: HeadTuning = {},
): tf.Tensor1D {
  if (group.length !== targets.length)
    throw new Error(`headLogprobSums: ${group.length} group ids for ${targets.length} targets; give one per row`);
  for (const g of group)
    if (!(g >= 0 && g < groups)) throw new Error(`headLogprobSums: group ${g} is outside [0, ${groups})`);
  const op = customOp<tf.Tensor1D>(([ht, wt], save) => {
    const losses = headRowLosses(ht as tf.Tensor2D, wt as tf.Tensor2D, targets, tuning);
    const sums = new Float64Array(groups);
    for (let r = 0; r < losses.length; r++) sums[group[r]!]! -= losses[r]!;
    save([ht!, wt!]);
    return {
      value: tf.tensor1d(Float32Array.from(sums)),
      grad: (dy, saved) => {
        const up = readF32(dy);
        const scale = Float32Array.from(group, (g) => -up[g]!);
        const { dh, dw } = headScaledGrads(saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D, targets, scale, tuning);
        return [dh, dw];
      },
    };
  });
  return op(h, w);
}
