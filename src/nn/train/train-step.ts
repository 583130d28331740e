// One optimizer step: forward and backward over each micro-batch (gradient accumulation), the mean
// of their gradients, clipping by global norm, AdamW. Gradients leave tfjs as named Float32Arrays,
// the form GradBuckets and all-reduce carry (DESIGN.md §5) and the optimizer consumes.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../runtime/rng.ts';
import type { AdamW } from '../optim/adamw.ts';
import type { FlatLayout } from '../optim/flat-layout.ts';
import type { Gpt } from '../model/gpt.ts';
import type { HeadTuning } from '../head/head-loss.ts';
import { autoregressiveLoss, maskedLmLoss, type PackedBatch } from '../objective/loss.ts';
import { maskedBatchOf, type MaskingOptions } from '../objective/mask-tokens.ts';
import { isPairObjective, pairLossFn, type PairObjective } from './pair-objective.ts';

export type Objective =
  | { kind: 'autoregressive'; labelSmoothing?: number }
  | ({ kind: 'masked-lm'; labelSmoothing?: number } & MaskingOptions)
  | PairObjective;

export interface GradOptions {
  objective: Objective;
  /** dropout masks and MLM masking draw from it; required when either is used */
  rng?: Rng;
  /** how the output head pass is cut up (head-loss.ts) */
  head?: HeadTuning;
}

export interface Grads {
  loss: number;
  /** by parameter name, one value per parameter element */
  grads: Map<string, Float32Array>;
}

/** Loss and gradients of one micro-batch. Leaves no tensors behind. */
export function computeGrads(model: Gpt, batch: PackedBatch, o: GradOptions): Grads {
  const obj = o.objective;
  // reward model and DPO on pair rows (pair-objective.ts)
  if (isPairObjective(obj)) return gradsOf(model, pairLossFn(model, batch, obj, o.rng));
  const lo = { labelSmoothing: obj.labelSmoothing, rng: o.rng, head: o.head };
  if (obj.kind === 'autoregressive') return gradsOf(model, () => autoregressiveLoss(model, batch, lo));
  if (!o.rng) throw new Error('computeGrads: the masked-LM objective needs an rng to draw its masks');
  const masked = maskedBatchOf(batch, o.rng, obj);
  return gradsOf(model, () => maskedLmLoss(model, masked, lo));
}

/** Any scalar loss of the model and its gradient for every parameter, as named arrays. */
export function gradsOf(model: Gpt, lossFn: () => tf.Scalar): Grads {
  const names = [...model.params.keys()];
  const vars = names.map((n) => model.param(n));
  const { value, grads } = tf.variableGrads(lossFn, vars);
  const out = new Map<string, Float32Array>();
  try {
    for (let i = 0; i < names.length; i++) {
      const g = grads[vars[i]!.name];
      // a parameter off the loss's path (none in a GPT, but be exact) has a zero gradient
      // a copy: on the cpu backend dataSync hands out the tensor's own storage
      out.set(names[i]!, g ? (g.dataSync() as Float32Array).slice() : new Float32Array(vars[i]!.size));
    }
    return { loss: value.dataSync()[0]!, grads: out };
  } finally {
    value.dispose();
    tf.dispose(Object.values(grads));
  }
}

/** Loss and gradients of one micro-batch written (or, with `accumulate`, added) straight into
 * `flat`, laid out as `layout` (model.specs order): no per-parameter copies. Leaves no tensors behind. */
export function gradsInto(
  model: Gpt,
  batch: PackedBatch,
  o: GradOptions,
  layout: FlatLayout,
  flat: Float32Array,
  accumulate: boolean,
): number {
  const obj = o.objective;
  let lossFn: () => tf.Scalar;
  if (isPairObjective(obj)) lossFn = pairLossFn(model, batch, obj, o.rng);
  else if (obj.kind === 'autoregressive') {
    const lo = { labelSmoothing: obj.labelSmoothing, rng: o.rng, head: o.head };
    lossFn = () => autoregressiveLoss(model, batch, lo);
  } else {
    if (!o.rng) throw new Error('gradsInto: the masked-LM objective needs an rng to draw its masks');
    const masked = maskedBatchOf(batch, o.rng, obj);
    lossFn = () => maskedLmLoss(model, masked, { labelSmoothing: obj.labelSmoothing, rng: o.rng, head: o.head });
  }
  if (flat.length !== layout.total)
    throw new Error(`gradsInto: flat gradient has ${flat.length} elements, the model ${layout.total}`);
  const vars = layout.entries.map((e) => model.param(e.name));
  const { value, grads } = tf.variableGrads(lossFn, vars);
  try {
    for (let i = 0; i < vars.length; i++) {
      const e = layout.entries[i]!;
      const g = grads[vars[i]!.name];
      const dst = flat.subarray(e.offset, e.offset + e.size);
      // a parameter off the loss's path (none in a GPT, but be exact) has a zero gradient
      if (!g) {
        if (!accumulate) dst.fill(0);
        continue;
      }
      const src = g.dataSync() as Float32Array;
      if (accumulate) for (let j = 0; j < src.length; j++) dst[j]! += src[j]!;
      else dst.set(src);
    }
    return value.dataSync()[0]!;
  } finally {
    value.dispose();
    tf.dispose(Object.values(grads));
  }
}

/** sqrt of the sum of squares of every gradient element, accumulated in float64. */
export function globalNorm(grads: Map<string, Float32Array>): number {
  let s = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  return Math.sqrt(s);
}

/** Scales all gradients in place so their global norm is at most maxNorm (PyTorch's
 * clip_grad_norm_: factor maxNorm / (norm + 1e-6), capped at 1). Returns the norm before clipping. */
export function clipGlobalNorm(grads: Map<string, Float32Array>, maxNorm: number): number {
  const norm = globalNorm(grads);
  const f = maxNorm / (norm + 1e-6);
  if (f < 1) for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i]! *= f;
  return norm;
}

export interface StepOptions extends GradOptions {
  lr: number;
  /** clip the global gradient norm to this; 0 or undefined: no clipping */
  clipNorm?: number;
}

export interface StepResult {
  /** mean loss over the micro-batches */
  loss: number;
  /** global gradient norm before clipping */
  gradNorm: number;
  lr: number;
  /** input tokens processed */
  tokens: number;
}

/** Mean of the micro-batches' gradients (each micro-batch weighs the same, like averaging replicas). */
export function accumulateGrads(model: Gpt, micro: PackedBatch[], o: GradOptions): Grads {
  if (micro.length === 0) throw new Error('accumulateGrads: no micro-batches');
  let sum: Map<string, Float32Array> | undefined;
  let loss = 0;
  for (const b of micro) {
    const r = computeGrads(model, b, o);
    loss += r.loss;
    if (!sum) sum = r.grads;
    else
      for (const [name, g] of r.grads) {
        const acc = sum.get(name)!;
        for (let i = 0; i < g.length; i++) acc[i]! += g[i]!;
      }
  }
  const k = 1 / micro.length;
  if (micro.length > 1) for (const g of sum!.values()) for (let i = 0; i < g.length; i++) g[i]! *= k;
  return { loss: loss * k, grads: sum! };
}

/** Forward, backward, accumulate, clip and update: one optimizer step. */
export function trainStep(model: Gpt, opt: AdamW, micro: PackedBatch[], o: StepOptions): StepResult {
  const { loss, grads } = accumulateGrads(model, micro, o);
  const gradNorm = o.clipNorm ? clipGlobalNorm(grads, o.clipNorm) : globalNorm(grads);
  opt.apply(model, grads, o.lr);
  const tokens = micro.reduce((n, b) => n + b.batch * b.seqLen, 0);
  return { loss, gradNorm, lr: o.lr, tokens };
}
