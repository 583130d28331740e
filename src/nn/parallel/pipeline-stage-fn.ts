// One stage's piece of the GPT for one micro-batch, as a function of its input tensors for
// segment.ts: the first stage embeds the token ids (its only input is none: the ids are data, not a
// differentiable tensor), every stage runs its blocks, the last adds ln_f and the fused head loss.
// The arithmetic is Gpt.hidden's and autoregressiveLoss's op for op, so gradients match one device.
import * as tf from '@tensorflow/tfjs';
import { headLoss, type HeadTuning } from '../head/head-loss.ts';
import { attentionSpans } from '../model/attention-mask.ts';
import { block } from '../model/block.ts';
import type { Gpt } from '../model/gpt.ts';
import { layerNorm } from '../model/layer-norm.ts';
import { positionEmbeddings } from '../model/positions.ts';
import { inputsOf, nextTokenTargets, type PackedBatch } from '../objective/loss.ts';
import type { StagePlan } from './pipeline-stages.ts';

export interface StageFnOptions {
  labelSmoothing?: number;
  head?: HeadTuning;
  /** the last stage calls it with the micro-batch's loss each time the piece runs */
  onLoss?: (loss: number) => void;
}

/** The rows x width of the activation a stage passes on for `b`. */
export const activationShape = (b: PackedBatch, dModel: number): [number, number] => [b.batch * b.seqLen, dModel];

/** Stage `plan`'s piece for micro-batch `b`: inputs [] on the first stage, else [x]; the output is the
 * activation [rows, d] or, on the last stage, the scalar loss. */
export function stageFn(
  model: Gpt,
  plan: StagePlan,
  b: PackedBatch,
  o: StageFnOptions = {},
): (inputs: tf.Tensor[]) => tf.Tensor {
  const cfg = model.config;
  const d = cfg.dModel;
  const input = inputsOf(b);
  const { batch, seqLen } = input;
  if (seqLen > cfg.contextLength)
    throw new Error(`pipeline stage: sequence length ${seqLen} exceeds the context length ${cfg.contextLength}`);
  const spans = attentionSpans(batch, seqLen, cfg.causal, undefined);
  const js = model.kernels === 'js';
  const p = (name: string) => model.param(name);
  const targets = plan.isLast ? nextTokenTargets(b) : undefined;
  return (inputs) => {
    let x: tf.Tensor2D;
    if (plan.isFirst) {
      for (const t of input.ids)
        if (!(t >= 0 && t < cfg.vocabSize))
          throw new Error(`pipeline stage: token id ${t} is outside the vocabulary [0, ${cfg.vocabSize})`);
      const tok = tf.gather(p('wte.weight'), tf.tensor1d(input.ids, 'int32')) as tf.Tensor2D;
      const wpe = cfg.positions === 'learned' ? (p('wpe.weight') as tf.Tensor2D) : undefined;
      const pos = positionEmbeddings(cfg.positions, wpe, seqLen, d);
      x = tf.add(tok.reshape([batch, seqLen, d]), pos).reshape([batch * seqLen, d]) as tf.Tensor2D;
    } else {
      const given = inputs[0];
      if (!given) throw new Error(`pipeline stage ${plan.stage}: no input activation given`);
      x = given as tf.Tensor2D;
    }
    for (let l = plan.layers.first; l < plan.layers.end; l++) x = block(x, l, { cfg, p, spans, rng: undefined, js });
    if (!plan.isLast) return x;
    if (cfg.norm === 'pre')
      x = layerNorm(x, p('ln_f.weight') as tf.Tensor1D, p('ln_f.bias') as tf.Tensor1D, cfg.layerNormEps, js);
    const loss = headLoss(x, p(plan.head) as tf.Tensor2D, { ...targets!, labelSmoothing: o.labelSmoothing, ...o.head });
    o.onLoss?.(loss.dataSync()[0]!);
    return loss;
  };
}
