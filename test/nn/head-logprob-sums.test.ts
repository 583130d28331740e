// headLogprobSums (the fused head's per-sequence log-prob sums, DPO's quantity) against the plain path
// that forms every [tokens, V] logit (logSoftmax, gather, segment sum): values and the gradients to h and
// to the head, for an upstream gradient of mixed signs as DPO's (chosen up, rejected down); with the
// vocabulary cut in blocks and rows in chunks; and sequenceLogprobSums equal to sequenceLogprobs' sums.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { headLogprobSums } from '../../src/nn/head/head-logprob-sums.ts';
import { gptConfig } from '../../src/nn/model/config.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import { sequenceLogprobSums, sequenceLogprobs } from '../../src/nn/objective/sequence-logprobs.ts';
import { Rng } from '../../src/runtime/rng.ts';

beforeAll(async () => {
  await initBackend({ announce: false });
});

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
};

function plainSums(h: tf.Tensor2D, w: tf.Tensor2D, targets: Int32Array, group: Int32Array, groups: number) {
  const lsm = tf.logSoftmax(tf.matMul(h, w, false, true));
  const v = w.shape[0];
  const picked = tf.gather(
    lsm.reshape([-1]),
    tf.tensor1d(
      Int32Array.from(targets, (y, i) => i * v + y),
      'int32',
    ),
  );
  return tf.unsortedSegmentSum(picked, tf.tensor1d(group, 'int32'), groups) as tf.Tensor1D;
}

describe('headLogprobSums', () => {
  it.each([
    { v: 1000, n: 37, tuning: {} },
    { v: 5003, n: 50, tuning: { vocabBlock: 512, chunkRows: 16, threads: 1 as const } },
  ])('values and gradients equal the plain logits path (V $v, $n rows)', ({ v, n, tuning }) => {
    const d = 24;
    const rng = new Rng(3);
    const hv = Float32Array.from({ length: n * d }, () => rng.next() * 2 - 1);
    const wv = Float32Array.from({ length: v * d }, () => (rng.next() * 2 - 1) * 0.5);
    const targets = Int32Array.from({ length: n }, () => Math.floor(rng.next() * v));
    const groups = 4;
    const group = Int32Array.from({ length: n }, (_, i) => (i * groups) / n);
    const up = tf.tensor1d([1.5, -0.7, 0.25, -2]); // DPO-like: signs differ by side
    const h = tf.tensor2d(hv, [n, d]);
    const w = tf.tensor2d(wv, [v, d]);
    const f = (fn: typeof plainSums) =>
      tf.grads((a, b) => tf.sum(tf.mul(fn(a as tf.Tensor2D, b as tf.Tensor2D, targets, group, groups), up)));
    const fused = (a: tf.Tensor2D, b: tf.Tensor2D) => headLogprobSums(a, b, targets, group, groups, tuning);
    expect(relErr(fused(h, w).dataSync(), plainSums(h, w, targets, group, groups).dataSync())).toBeLessThan(1e-6);
    const [dhF, dwF] = f((a, b) => fused(a, b))([h, w]);
    const [dhP, dwP] = f(plainSums)([h, w]);
    expect(relErr(dhF!.dataSync(), dhP!.dataSync())).toBeLessThan(1e-5);
    expect(relErr(dwF!.dataSync(), dwP!.dataSync())).toBeLessThan(1e-5);
    expect(() => headLogprobSums(h, w, targets, group.subarray(1), groups)).toThrow(/group ids for/);
    expect(() => headLogprobSums(h, w, targets, group, 2)).toThrow(/group 2 is outside \[0, 2\)/);
  });

  it('sequenceLogprobSums equals sequenceLogprobs(...).sums, with the same gradients', () => {
    const cfg = gptConfig({ vocabSize: 3000, contextLength: 16, nLayer: 1, nHead: 2, dModel: 16 });
    const model = Gpt.create(cfg, { seed: 5 });
    const batch = 3;
    const seqLen = 12;
    const rng = new Rng(9);
    const inputIds = Int32Array.from({ length: batch * (seqLen + 1) }, () => Math.floor(rng.next() * 3000));
    const mask = Uint8Array.from({ length: batch * (seqLen + 1) }, (_, i) => (i % (seqLen + 1) > 4 ? 1 : 0));
    const attentionMask = Uint8Array.from(mask, (_, i) => (i % (seqLen + 1) < 11 || i < seqLen + 1 ? 1 : 0));
    const rows = { inputIds, batch, seqLen, attentionMask };
    const fused = sequenceLogprobSums(model, rows, mask);
    const plain = sequenceLogprobs(model, rows, mask).sums;
    expect(relErr(fused.dataSync(), plain.dataSync())).toBeLessThan(1e-6);
    const vars = [...model.params.values()];
    const up = tf.tensor1d([1, -1, 0.5]);
    const gF = tf.variableGrads(() => tf.sum(tf.mul(sequenceLogprobSums(model, rows, mask), up)) as tf.Scalar, vars);
    const gP = tf.variableGrads(() => tf.sum(tf.mul(sequenceLogprobs(model, rows, mask).sums, up)) as tf.Scalar, vars);
    for (const name of Object.keys(gP.grads))
      expect(relErr(gF.grads[name]!.dataSync(), gP.grads[name]!.dataSync()), name).toBeLessThan(1e-4);
    model.dispose();
  });
});
