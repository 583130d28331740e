// LoRA (Hu et al. 2021) with Hugging Face PEFT's semantics on GPT-2's Conv1D projections:
//   y = x W + b + scale * dropout(x) A^T B^T,   A [r, in], B [out, r], scale = alpha / r (or / sqrt(r))
// A is Kaiming-uniform as PEFT's reset_lora_parameters (kaiming_uniform_(a = sqrt(5)): U(+-1/sqrt(in))),
// B zeros, so an adapted model computes exactly the base model until B moves. Parameters are named as
// PEFT names them inside a GPT-2 (`h.{i}.attn.c_attn.lora_A.weight`), appended after the base specs.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../runtime/rng.ts';
import { linear } from '../backend/matmul.ts';
import { customOp } from '../backend/js-kernel.ts';
import type { GptConfig } from '../model/config.ts';
import { dropout } from '../model/regularize.ts';
import { loraScale } from './lora-config.ts';
import { loraModules } from './lora-specs.ts';

/** scale * x A^T B^T for x [n, in], A [r, in], B [out, r], with a hand-written gradient whose products
 * are all plain 2-D ones (see matmul.ts: transpose flags are slow on wasm; these matrices are small). */
const lowRank = (scale: number) =>
  customOp<tf.Tensor2D>(([x, a, b], save) => {
    const x2 = x as tf.Tensor2D;
    const u = tf.matMul(x2, (a as tf.Tensor2D).transpose()); // [n, r]
    save([x2, a!, b!, u]);
    return {
      value: tf.mul(tf.matMul(u, (b as tf.Tensor2D).transpose()), scale) as tf.Tensor2D,
      grad: (dy, saved) => {
        const [xs, as, bs, us] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const g = tf.mul(dy, scale) as tf.Tensor2D; // [n, out]
        const du = tf.matMul(g, bs); // [n, r]
        const duT = du.transpose();
        return [tf.matMul(du, as), tf.matMul(duT, xs), tf.matMul(g.transpose(), us)];
      },
    };
  });

/** A projection with LoRA where `cfg.lora` puts one, else the plain `x W + b`. `rng` draws the
 * adapter-input dropout masks (training); `merged`: the update is already in W (merge.ts), skip it. */
export function loraProjection(
  cfg: GptConfig,
  p: (name: string) => tf.Tensor,
  rng: Rng | undefined,
  merged: boolean,
): ((x: tf.Tensor2D, name: string) => tf.Tensor2D) | undefined {
  const lora = cfg.lora;
  if (!lora || merged) return undefined;
  const adapted = new Set(loraModules(cfg).map((m) => m.module));
  const op = lowRank(loraScale(lora));
  return (x, name) => {
    const base = linear(x, p(`${name}.weight`) as tf.Tensor2D, p(`${name}.bias`) as tf.Tensor1D);
    if (!adapted.has(name)) return base;
    const xin = dropout(x, lora.dropout, rng);
    return tf.add(base, op(xin, p(`${name}.lora_A.weight`), p(`${name}.lora_B.weight`))) as tf.Tensor2D;
  };
}
