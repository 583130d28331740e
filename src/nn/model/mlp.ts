// The MLP sublayer: c_fc to mlpRatio * d, the activation, c_proj back to d. GELU (GPT-2's tanh
// approximation) and ReLU act on c_fc's output; SwiGLU (Shazeer 2020, as in LLaMA) multiplies it by
// SiLU of a second projection, the gate: c_proj(c_fc(x) * silu(c_gate(x))), silu(g) = g sigmoid(g).
// The hidden width stays mlpRatio * d for every activation (config.ts says what that costs swiglu).
import * as tf from '@tensorflow/tfjs';
import { project, type ParamLookup } from './attention.ts';
import type { GptConfig } from './config.ts';
import { gelu } from './gelu.ts';

export type Activation = GptConfig['activation'];

export function mlp(x: tf.Tensor2D, p: ParamLookup, prefix: string, activation: Activation, js: boolean): tf.Tensor2D {
  const dense = (t: tf.Tensor2D, name: string) => project(t, p, `${prefix}.${name}`);
  const hidden = dense(x, 'c_fc');
  return dense(activate(hidden, x, activation, js, dense), 'c_proj');
}

function activate(
  hidden: tf.Tensor2D,
  x: tf.Tensor2D,
  activation: Activation,
  js: boolean,
  dense: (t: tf.Tensor2D, name: string) => tf.Tensor2D,
): tf.Tensor2D {
  switch (activation) {
    case 'gelu':
      return gelu(hidden, js);
    case 'relu':
      return tf.relu(hidden);
    case 'swiglu': {
      const gate = dense(x, 'c_gate');
      return tf.mul(hidden, tf.mul(gate, tf.sigmoid(gate))) as tf.Tensor2D;
    }
  }
}
