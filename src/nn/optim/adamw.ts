// AdamW (Loshchilov & Hutter): Adam moments with bias correction, and weight decay applied to the
// parameter directly (decoupled), in exactly PyTorch's order of operations:
//   p *= 1 - lr wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// State is plain named Float32Arrays (checkpoints store them as Arrow tables), updated by one JS loop
// per parameter (adamw-update.ts, native when the addon is built) rather than a dozen tfjs passes.
import * as tf from '@tensorflow/tfjs';
import type { Gpt } from '../model/gpt.ts';
import { sizeOf, type ParamKind, type ParamSpec } from '../model/params.ts';
import { adamwUpdate } from './adamw-update.ts';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** parameter kinds that get no weight decay; default biases and norms (as nanoGPT) */
  noDecay?: readonly ParamKind[];
}

export interface AdamWState {
  /** optimizer steps taken */
  step: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly noDecay: ReadonlySet<ParamKind>;
  private readonly specs: ParamSpec[];
  private state: AdamWState;

  constructor(specs: ParamSpec[], o: AdamWOptions = {}) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.95;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0.1;
    this.noDecay = new Set(o.noDecay ?? ['bias', 'norm']);
    this.specs = specs;
    const zeros = () => new Map(specs.map((s) => [s.name, new Float32Array(sizeOf(s.shape))]));
    this.state = { step: 0, m: zeros(), v: zeros() };
  }

  get step(): number {
    return this.state.step;
  }

  decays(spec: ParamSpec): boolean {
    return this.weightDecay > 0 && !this.noDecay.has(spec.kind);
  }

  /** One update of every parameter of `model` with `grads` (by name; a missing one is an error). */
  apply(model: Gpt, grads: Map<string, Float32Array>, lr: number): void {
    const t = this.state.step + 1;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const stepSize = lr / (1 - Math.pow(b1, t));
    const bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
    for (const spec of this.specs) {
      const g = grads.get(spec.name);
      if (!g) throw new Error(`AdamW: no gradient for ${spec.name}; every parameter needs one (zeros if unused)`);
      const param = model.param(spec.name);
      const p = (param.dataSync() as Float32Array).slice();
      const m = this.state.m.get(spec.name)!;
      const v = this.state.v.get(spec.name)!;
      if (g.length !== p.length)
        throw new Error(`AdamW: gradient of ${spec.name} has ${g.length} values, the parameter ${p.length}`);
      const decay = this.decays(spec) ? 1 - lr * this.weightDecay : 1;
      adamwUpdate(p, p, g, m, v, { b1, b2, stepSize, bc2Sqrt, decay, eps: this.eps });
      tf.tidy(() => param.assign(tf.tensor(p, param.shape, 'float32')));
    }
    this.state.step = t;
  }

  /** The live state (not a copy): checkpoint writers read it, resume writes it through setState. */
  getState(): AdamWState {
    return this.state;
  }

  /** Replaces the state; every parameter's moments must be present with the right size. */
  setState(s: AdamWState): void {
    if (!Number.isInteger(s.step) || s.step < 0)
      throw new Error(`AdamW.setState: step must be a non-negative integer, got ${s.step}`);
    for (const spec of this.specs) {
      for (const [which, map] of [
        ['m', s.m],
        ['v', s.v],
      ] as const) {
        const a = map.get(spec.name);
        if (!a || a.length !== sizeOf(spec.shape))
          throw new Error(
            `AdamW.setState: ${which} of ${spec.name} is ${a ? `${a.length} values` : 'missing'}, expected ${sizeOf(spec.shape)}`,
          );
      }
    }
    this.state = { step: s.step, m: new Map(s.m), v: new Map(s.v) };
  }
}
