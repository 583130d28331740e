// Activation checkpointing of one transformer block: the forward pass keeps only the block's input
// (and any prefix keys/values); the backward pass runs the block again from that input and takes
// its gradients then. The dropout, DropPath and LoRA-dropout masks are drawn again from a copy of
// the generator restored to its state before the block, so the recomputation is the same
// arithmetic on the same values as the forward pass, and the gradients are bit for bit the ones
// of the run without checkpointing (test/nn/activation-checkpointing.test.ts).
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../runtime/rng.ts';
import type { PastKV } from '../adapters/prefix.ts';
import type { AttentionSpans } from './attention-mask.ts';
import type { ParamLookup } from './attention.ts';
import { block } from './block.ts';
import type { GptConfig } from './config.ts';

export interface CheckpointContext {
  cfg: GptConfig;
  spans: AttentionSpans;
  /** masks come from here in the forward pass; a copy restored to its state before the block
   * draws them again in the backward pass. None: evaluation. */
  rng: Rng | undefined;
  js: boolean;
  /** The lookup the block reads parameters through, made for a generator and prefix keys/values:
   * LoRA draws its dropout masks from the generator it is made with, and the recomputation must
   * use the replayed one and the saved copies of the keys/values. */
  lookupFor: (rng: Rng | undefined, past: ReadonlyMap<string, PastKV>) => ParamLookup;
  /** every variable the block reads (its h.{layer}.* parameters and adapters): gradients reach
   * them only as inputs of the op */
  params: readonly tf.Variable[];
  /** this layer's prefix keys/values (prefix tuning), if any */
  past?: PastKV;
}

/** `block(x, layer, ...)` computed without keeping its activations for the backward pass. */
export function checkpointedBlock(x: tf.Tensor2D, layer: number, c: CheckpointContext): tf.Tensor2D {
  const attnName = `h.${layer}.attn`;
  const pastInputs = c.past ? [c.past.k, c.past.v] : [];
  const nParams = c.params.length;
  const run = (input: tf.Tensor2D, rng: Rng | undefined, past: tf.Tensor[]) => {
    const kv = past.length === 2 ? new Map([[attnName, { k: past[0], v: past[1] } as PastKV]]) : new Map();
    return block(input, layer, { cfg: c.cfg, p: c.lookupFor(rng, kv), spans: c.spans, rng, js: c.js });
  };
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    // tfjs passes the save function after the inputs; the forward runs in a tidy with the tape off
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const inputs = args.slice(0, -1) as tf.Tensor[];
    const start = c.rng?.save();
    const past = inputs.slice(1 + nParams);
    // kept by clone: the input itself may be an intermediate the outer forward disposes
    save([inputs[0]!, ...past]);
    const value = run(inputs[0] as tf.Tensor2D, c.rng, past);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        recompute(dy as tf.Tensor2D, saved, c.params, (xs, ps) => run(xs, start && Rng.restore(start), ps)),
    };
  });
  return op(x, ...c.params, ...pastInputs) as tf.Tensor2D;
}

/** Gradients of [x, ...params, ...past] given the output's gradient: the block runs again under
 * a tape of its own. */
function recompute(
  dy: tf.Tensor2D,
  saved: tf.Tensor[],
  params: readonly tf.Variable[],
  forward: (x: tf.Tensor2D, past: tf.Tensor[]) => tf.Tensor2D,
): tf.Tensor[] {
  const engine = tf.engine();
  // a nested gradient computation at depth 0 starts a fresh tape in the engine's one slot and
  // clears it when done, and the outer backward pass still has to release its own tape's
  // saved tensors at its end: put the outer tape back afterwards
  const outerTape = engine.state.activeTape;
  try {
    return tf.tidy(() => {
      const [x, ...past] = saved as [tf.Tensor2D, ...tf.Tensor[]];
      const xs: tf.Tensor[] = [x, ...params, ...past];
      const { value, grads } = engine.gradients(() => forward(x, past), xs, dy, true);
      value.dispose();
      // a parameter the block does not reach (none in a GPT block, but be exact) gets zeros
      return grads.map((g, i) => g ?? tf.zerosLike(xs[i]!));
    });
  } finally {
    engine.state.activeTape = outerTape;
  }
}
