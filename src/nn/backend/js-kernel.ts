// Glue for custom ops: the small JS kernels (layer norm, GELU, attention core) that run over typed
// arrays on the backends whose tensors live in this process (wasm heap, cpu arrays), where one fused
// loop beats a chain of tfjs ops that each pay a dispatch and a full pass over memory; and a typed
// wrapper over tf.customGrad for them and for the matmuls with hand-written gradients.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The values of a float32 tensor. May be the backend's own storage (cpu): never write to it. */
export function readF32(t: tf.Tensor): Float32Array {
  if (t.dtype !== 'float32')
    throw new Error(`flowlm nn: expected a float32 tensor, got ${t.dtype} of shape [${t.shape}]`);
  return t.dataSync() as Float32Array;
}

/**
 * Calls `fn` with a float32 tensor's values without copying them where the backend allows it (a
 * view of the wasm heap), else with a copy. The view dies when the heap grows: `fn` must not run tf
 * ops, and must not keep the array.
 */
export function peekF32<T>(t: tf.Tensor, fn: (values: Float32Array) => T): T {
  if (t.dtype !== 'float32')
    throw new Error(`flowlm nn: expected a float32 tensor, got ${t.dtype} of shape [${t.shape}]`);
  if (tf.getBackend() === 'wasm') return fn((tf.backend() as BackendWasm).typedArrayFromHeap(t) as Float32Array);
  return fn(t.dataSync() as Float32Array);
}

/** The values of a float32 tensor that is no longer needed, which is disposed. */
export function takeF32(t: tf.Tensor): Float32Array {
  try {
    return Float32Array.from(readF32(t));
  } finally {
    t.dispose();
  }
}

/** A new tensor owning `values`; the caller must not touch `values` afterwards. */
export const fromF32 = <R extends tf.Rank = tf.Rank>(values: Float32Array, shape: readonly number[]): tf.Tensor<R> =>
  tf.tensor(values, [...shape], 'float32') as unknown as tf.Tensor<R>;

export interface CustomOpResult<T extends tf.Tensor> {
  value: T;
  /** gradients of the inputs, in order, given the output's gradient and what was saved */
  grad: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
}

/**
 * An op with a hand-written gradient. `f` runs inside a tidy with the tape off; tensors it needs in
 * the backward pass go through `save` (JS arrays may simply be captured).
 */
export function customOp<T extends tf.Tensor>(
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => CustomOpResult<T>,
): (...inputs: tf.Tensor[]) => T {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    // tfjs always passes the save function after the inputs
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const r = f(args.slice(0, -1) as tf.Tensor[], save);
    return {
      value: r.value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => r.grad(dy as tf.Tensor, saved),
    };
  });
  return (...inputs: tf.Tensor[]) => op(...inputs) as T;
}
