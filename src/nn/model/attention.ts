// GPT-2's attention sublayer: c_attn (one product for q, k, v), the attention core, c_proj.
import type * as tf from '@tensorflow/tfjs';
import type { AttentionSpans } from './attention-mask.ts';
import { attentionCore } from './attention-core.ts';
import type { AttentionDrop } from './attention-dropout.ts';
import { linear } from '../backend/matmul.ts';

export type ParamLookup = (name: string) => tf.Tensor;

/** `drop`: dropout on the attention probabilities (training only). */
export function attention(
  x: tf.Tensor2D,
  p: ParamLookup,
  prefix: string,
  spans: AttentionSpans,
  nHead: number,
  js: boolean,
  drop?: AttentionDrop,
): tf.Tensor2D {
  const qkv = linear(x, p(`${prefix}.c_attn.weight`) as tf.Tensor2D, p(`${prefix}.c_attn.bias`) as tf.Tensor1D);
  const heads = attentionCore(qkv, spans, nHead, js, drop);
  return linear(heads, p(`${prefix}.c_proj.weight`) as tf.Tensor2D, p(`${prefix}.c_proj.bias`) as tf.Tensor1D);
}
