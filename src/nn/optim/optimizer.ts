// What the trainer needs of an optimizer, whether each rank holds all of its state (AdamW) or only
// its shard (ZeRO-1, zero-adamw.ts). `apply` and `fullState` are collective in the sharded case:
// every rank calls them at the same point.
import type { AdamWState } from './adamw.ts';
import type { Gpt } from '../model/gpt.ts';

export interface Optimizer {
  /** optimizer steps taken */
  readonly step: number;
  /** one update of every parameter of `model` with the (already averaged) gradients, by name */
  apply(model: Gpt, grads: Map<string, Float32Array>, lr: number): Promise<void>;
  /** the whole, unsharded state, as checkpoints store it (so a run resumes at any world size) */
  fullState(): Promise<AdamWState>;
  /** takes the whole state (a sharded optimizer keeps its shard of it) */
  setState(s: AdamWState): void;
  /** releases what it holds outside the JS heap (the disk optimizer's file), if anything */
  close?(): void;
}
