// One transformer block: attention and MLP sublayers with residuals, the LayerNorms before them
// (pre-LN, GPT-2) or after each residual sum (post-LN), dropout and DropPath on each branch, and
// attention dropout inside the attention (drawn before the branch's masks, from the same generator).
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../runtime/rng.ts';
import type { AttentionSpans } from './attention-mask.ts';
import { attention, type ParamLookup } from './attention.ts';
import type { GptConfig } from './config.ts';
import { layerNorm } from './layer-norm.ts';
import { mlp } from './mlp.ts';
import { dropPath, dropout } from './regularize.ts';

export interface BlockContext {
  cfg: GptConfig;
  p: ParamLookup;
  spans: AttentionSpans;
  /** masks for dropout and DropPath come from here; none means evaluation */
  rng: Rng | undefined;
  js: boolean;
}

export function block(x: tf.Tensor2D, layer: number, c: BlockContext): tf.Tensor2D {
  const h = `h.${layer}`;
  const { cfg, p, rng, js } = c;
  const ln = (t: tf.Tensor2D, name: string) =>
    layerNorm(t, p(`${h}.${name}.weight`) as tf.Tensor1D, p(`${h}.${name}.bias`) as tf.Tensor1D, cfg.layerNormEps, js);
  const branch = (t: tf.Tensor2D) => dropPath(dropout(t, cfg.dropout, rng), cfg.dropPath, c.spans.batch, rng);
  const drop = rng && cfg.attnDropout > 0 ? { rate: cfg.attnDropout, rng } : undefined;
  const attn = (t: tf.Tensor2D) => attention(t, p, `${h}.attn`, c.spans, cfg.nHead, js, drop);
  const ff = (t: tf.Tensor2D) => mlp(t, p, `${h}.mlp`, cfg.activation, js);
  if (cfg.norm === 'pre') {
    const x1 = tf.add(x, branch(attn(ln(x, 'ln_1')))) as tf.Tensor2D;
    return tf.add(x1, branch(ff(ln(x1, 'ln_2')))) as tf.Tensor2D;
  }
  const x1 = ln(tf.add(x, branch(attn(x))) as tf.Tensor2D, 'ln_1');
  return ln(tf.add(x1, branch(ff(x1))) as tf.Tensor2D, 'ln_2');
}
