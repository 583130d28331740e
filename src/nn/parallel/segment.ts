// A piece of the model run as its own forward and backward, so that tensor and pipeline parallelism
// can put a collective or a send between pieces (the collectives are asynchronous and tfjs's backward
// pass is one synchronous call). The forward runs with no tape; the backward runs the piece again
// under a tape of its own and takes the gradients of its inputs and parameters for the given output
// gradient, so the arithmetic is the forward's own and the gradients are those of the whole graph.
import * as tf from '@tensorflow/tfjs';

export interface SegmentGrads {
  /** d loss / d input, one per input (zeros where the piece does not reach an input) */
  inputs: tf.Tensor[];
  /** d loss / d parameter, in the order the parameters were given */
  params: tf.Tensor[];
}

/** The piece's output, computed without recording anything for a backward pass. */
export function segmentForward(fn: (inputs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): tf.Tensor {
  return tf.tidy(() => fn(inputs));
}

/** Gradients of the piece's inputs and `params` given `dy`, the gradient of its output. The caller
 * owns (and disposes) the returned tensors; nothing else is left behind. */
export function segmentBackward(
  fn: (inputs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
  params: readonly tf.Variable[],
  dy: tf.Tensor,
): SegmentGrads {
  const out = tf.tidy(() => {
    const xs: tf.Tensor[] = [...inputs, ...params];
    const { value, grads } = tf.engine().gradients(() => fn(inputs), xs, dy, true);
    value.dispose();
    return grads.map((g, i) => g ?? tf.zerosLike(xs[i]!));
  });
  return { inputs: out.slice(0, inputs.length), params: out.slice(inputs.length) };
}
