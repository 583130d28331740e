// GPT-2's attention sublayer: c_attn (one product for q, k, v), the attention core, c_proj.
import type * as tf from '@tensorflow/tfjs';
import type { AttentionSpans } from './attention-mask.ts';
import { attentionCore } from './attention-core.ts';
import type { AttentionDrop } from './attention-dropout.ts';
import { linear } from '../backend/matmul.ts';
import type { PastKV } from '../adapters/prefix.ts';

/** Parameters by name; `project`, when set, computes a named projection with its adapters (LoRA,
 * src/nn/adapters/lora.ts) in place of the plain `x W + b`. */
export type ParamLookup = ((name: string) => tf.Tensor) & {
  project?: (x: tf.Tensor2D, name: string) => tf.Tensor2D;
  /** prefix keys/values (src/nn/adapters/prefix.ts) for the attention named e.g. h.0.attn, if any */
  past?: (name: string) => PastKV | undefined;
};

/** The projection `name` (e.g. h.0.attn.c_attn) of x: x W + b, plus any adapter on it. */
export function project(x: tf.Tensor2D, p: ParamLookup, name: string): tf.Tensor2D {
  if (p.project) return p.project(x, name);
  return linear(x, p(`${name}.weight`) as tf.Tensor2D, p(`${name}.bias`) as tf.Tensor1D);
}

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
  const qkv = project(x, p, `${prefix}.c_attn`);
  const heads = attentionCore(qkv, spans, nHead, js, drop, p.past?.(prefix));
  return project(heads, p, `${prefix}.c_proj`);
}
