// AdamW as the trainer's `Optimizer`: each rank holds all of the state and needs no collective, so
// this only adapts the synchronous AdamW (whose own API other code and tests keep using).
import { AdamW, type AdamWOptions, type AdamWState } from './adamw.ts';
import type { Gpt } from '../model/gpt.ts';
import type { Optimizer } from './optimizer.ts';
import type { ParamSpec } from '../model/params.ts';

export class AdamWOptimizer implements Optimizer {
  readonly adamw: AdamW;

  /** A new AdamW over `specs`, or an existing one to adapt. */
  constructor(specs: ParamSpec[] | AdamW, o: AdamWOptions = {}) {
    this.adamw = specs instanceof AdamW ? specs : new AdamW(specs, o);
  }

  get step(): number {
    return this.adamw.step;
  }

  async apply(model: Gpt, grads: Map<string, Float32Array>, lr: number): Promise<void> {
    this.adamw.apply(model, grads, lr);
  }

  /** The live state, not a copy (moments are as large as the model): read it before the next apply. */
  async fullState(): Promise<AdamWState> {
    return this.adamw.getState();
  }

  setState(s: AdamWState): void {
    this.adamw.setState(s);
  }
}
