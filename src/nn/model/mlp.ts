// GPT-2's MLP sublayer: c_fc to mlpRatio * d, GELU (tanh approximation), c_proj back to d.
import type * as tf from '@tensorflow/tfjs';
import type { ParamLookup } from './attention.ts';
import { gelu } from './gelu.ts';
import { linear } from '../backend/matmul.ts';

export function mlp(x: tf.Tensor2D, p: ParamLookup, prefix: string, js: boolean): tf.Tensor2D {
  const hidden = linear(x, p(`${prefix}.c_fc.weight`) as tf.Tensor2D, p(`${prefix}.c_fc.bias`) as tf.Tensor1D);
  return linear(gelu(hidden, js), p(`${prefix}.c_proj.weight`) as tf.Tensor2D, p(`${prefix}.c_proj.bias`) as tf.Tensor1D);
}
