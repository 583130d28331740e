import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { segmentBackward, segmentForward } from '../../../src/nn/parallel/segment.ts';

// Two pieces, y = tanh(x W1) W2, run piece by piece (forward, then backward from the loss's gradient)
// give the gradients tf.variableGrads gives for the whole graph.
describe('segmentForward / segmentBackward', () => {
  it('chain two pieces to the whole graph gradients', () => {
    const x = tf.tensor2d([0.5, -1, 2, 0.25, 1.5, -0.75], [2, 3]);
    const w1 = tf.variable(tf.tensor2d([0.1, -0.2, 0.3, 0.4, 0.5, -0.6], [3, 2]));
    const w2 = tf.variable(tf.tensor2d([0.7, -0.8], [2, 1]));
    const p1 = ([i]: tf.Tensor[]) => tf.tanh(tf.matMul(i as tf.Tensor2D, w1));
    const p2 = ([i]: tf.Tensor[]) => tf.matMul(i as tf.Tensor2D, w2);
    const loss = (y: tf.Tensor) => tf.sum(tf.square(y)) as tf.Scalar;
    const whole = tf.variableGrads(() => loss(p2([p1([x])])), [w1, w2]);

    const before = tf.memory().numTensors;
    const h = segmentForward(p1, [x]);
    const y = segmentForward(p2, [h]);
    const dy = tf.grad(loss)(y);
    const g2 = segmentBackward(p2, [h], [w2], dy);
    const g1 = segmentBackward(p1, [x], [w1], g2.inputs[0]!);
    expect(g1.params[0]!.arraySync()).toEqual(whole.grads[w1.name]!.arraySync());
    expect(g2.params[0]!.arraySync()).toEqual(whole.grads[w2.name]!.arraySync());
    tf.dispose([h, y, dy, ...g1.inputs, ...g1.params, ...g2.inputs, ...g2.params]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
