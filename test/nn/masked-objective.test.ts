// The training config's objective reaches the replica: `objective: 'masked'` trains a bidirectional
// masked LM end to end on real text (Moby-Dick, GPT-2 tokens) through TrainReplica, its step's loss
// and gradient are the masked-LM ones (equal to a hand-built cross-entropy at the masked positions,
// different from the causal objective's), and its evaluation scores the same masks every time.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mobyDickChapters } from '../../operators/ingest/embedded-corpus.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { evalMaskRng } from '../../src/nn/eval/masked-eval.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import { maskedLmLoss, maskedLmLossValue, type MaskedBatch, type PackedBatch } from '../../src/nn/objective/loss.ts';
import { maskedBatchOf, type MaskingOptions } from '../../src/nn/objective/mask-tokens.ts';
import { TrainReplica } from '../../src/nn/train/replica.ts';
import { configHash, trainConfig, type TrainConfigInput } from '../../src/nn/train/train-config.ts';
import { gradsOf } from '../../src/nn/train/train-step.ts';
import { Rng } from '../../src/runtime/rng.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-masked-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ announce: false });
});

const SEQ = 16;
const BATCH = 8;
const ids = getEncoding('gpt2').encode(readFileSync(join(dirname(mobyDickChapters()), 'chapter_1.txt'), 'utf8'));
const rows = Math.floor((ids.length - 1) / SEQ);
const batchOf = (first: number, n = BATCH): PackedBatch => ({
  inputIds: Int32Array.from(
    Array.from({ length: n }, (_, i) => ids.slice((first + i) * SEQ, (first + i) * SEQ + SEQ + 1)).flat(),
  ),
  batch: n,
  seqLen: SEQ,
});
const trainBatch = (step: number) => batchOf((step * BATCH) % (rows - 2 * BATCH));
async function* val() {
  yield batchOf(rows - 2 * BATCH);
  yield batchOf(rows - BATCH);
}

// one id more than GPT-2's vocabulary: the default mask token (vocabSize - 1) is then no text's token
const VOCAB = 50258;
let runs = 0;
const cfg = (more: Partial<TrainConfigInput> = {}) =>
  trainConfig({
    runDir: join(tmp, `run-${runs++}`),
    model: { vocabSize: VOCAB, contextLength: SEQ, nLayer: 1, nHead: 2, dModel: 32 },
    data: { train: 'unused' },
    batchSize: BATCH,
    steps: 40,
    lr: { max: 1e-2, min: 1e-3, warmupSteps: 3 },
    evalBatches: 2,
    seed: 5,
    objective: 'masked',
    masking: { maskProb: 0.25 },
    ...more,
  });
const masking: MaskingOptions = {
  maskToken: VOCAB - 1,
  vocabSize: VOCAB,
  maskProb: 0.25,
  replaceMask: 0.8,
  replaceRandom: 0.1,
};

/** Mean cross-entropy at the masked positions, from the hidden states and the tied head by hand. */
function handMaskedLoss(model: Gpt, m: MaskedBatch): tf.Scalar {
  const h = tf.gather(model.hidden(m.input), tf.tensor1d(m.positions, 'int32'));
  const logits = tf.matMul(h, model.param('wte.weight'), false, true);
  const logp = tf.logSoftmax(logits);
  const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(m.labels, 'int32'), VOCAB)), 1);
  return tf.neg(tf.mean(picked)) as tf.Scalar;
}

/** The validation batches' masked-LM loss under the evaluation masks, weighted by masked tokens. */
function handMaskedEval(model: Gpt): number {
  let nll = 0,
    n = 0;
  [batchOf(rows - 2 * BATCH), batchOf(rows - BATCH)].forEach((b, i) => {
    const m = maskedBatchOf(b, evalMaskRng(5, i), masking);
    nll += maskedLmLossValue(model, m) * m.positions.length;
    n += m.positions.length;
  });
  return nll / n;
}

describe("objective: 'masked'", () => {
  it('implies bidirectional attention, and refuses causal attention asked for explicitly', async () => {
    const rep = await TrainReplica.open(cfg());
    expect(rep.model.config.causal).toBe(false);
    rep.dispose();
    const causalRep = await TrainReplica.open(cfg({ objective: 'causal' }));
    expect(causalRep.model.config.causal).toBe(true);
    causalRep.dispose();
    await expect(
      TrainReplica.open(
        cfg({ model: { vocabSize: VOCAB, contextLength: SEQ, nLayer: 1, nHead: 2, dModel: 32, causal: true } }),
      ),
    ).rejects.toThrow(/objective 'masked' needs bidirectional attention, but model\.causal is true/);
    await expect(TrainReplica.open(cfg({ masking: { maskToken: VOCAB } }))).rejects.toThrow(
      /masking\.maskToken 50258 is outside the model's vocabulary/,
    );
  });

  it("a step's loss and gradient are the masked-LM ones: a hand-built masked cross-entropy, not the causal loss", async () => {
    const rep = await TrainReplica.open(cfg());
    const causalRep = await TrainReplica.open(cfg({ objective: 'causal' }));
    const b = trainBatch(0);
    // the same masks the replica draws: step 0, micro-batch 0's generator (its first draws)
    const masked = maskedBatchOf(b, rep.microRng(0, 0), masking);
    expect(masked.positions.length).toBeGreaterThan(0.15 * BATCH * SEQ);
    const model = Gpt.create(rep.model.config, { values: rep.model.getParams() });
    try {
      const g = rep.forwardBackward([b]);
      const hand = tf.tidy(() => handMaskedLoss(model, masked).dataSync()[0]!);
      expect(Math.abs(g.loss - hand)).toBeLessThan(1e-4 * hand);
      const ref = gradsOf(model, () => maskedLmLoss(model, masked));
      let worst = 0;
      for (const e of rep.layout.entries) {
        const r = ref.grads.get(e.name)!;
        for (let i = 0; i < e.size; i++) worst = Math.max(worst, Math.abs(g.flat[e.offset + i]! - r[i]!));
      }
      expect(worst).toBeLessThan(1e-6);

      const c = causalRep.forwardBackward([b]); // same seed, so the same initial weights
      expect(causalRep.paramsSha256()).toBe(rep.paramsSha256());
      expect(Math.abs(c.loss - g.loss)).toBeGreaterThan(1e-3);
      let gap = 0;
      for (let i = 0; i < c.flat.length; i++) gap = Math.max(gap, Math.abs(c.flat[i]! - g.flat[i]!));
      expect(gap).toBeGreaterThan(1e-4);
    } finally {
      model.dispose();
      rep.dispose();
      causalRep.dispose();
    }
  });

  it('evaluates the masked-token loss under the same masks at every evaluation, not the causal loss', async () => {
    const rep = await TrainReplica.open(cfg());
    try {
      const a = (await rep.evaluate(val()))!;
      const again = (await rep.evaluate(val()))!;
      expect(again.loss).toBe(a.loss);
      expect(a.loss).toBeCloseTo(handMaskedEval(rep.model), 6);
      expect(a.perplexity).toBeCloseTo(Math.exp(a.loss), 6);
      const causal = await TrainReplica.open(cfg({ objective: 'causal' }));
      expect(Math.abs((await causal.evaluate(val()))!.loss - a.loss)).toBeGreaterThan(1e-3);
      causal.dispose();
    } finally {
      rep.dispose();
    }
  });

  it('trains a masked LM end to end through the replica: training and validation losses fall', async () => {
    const rep = await TrainReplica.open(cfg());
    try {
      const before = (await rep.evaluate(val()))!.loss;
      const losses: number[] = [];
      for (let s = 0; s < 40; s++) {
        const g = await rep.allReduce(rep.forwardBackward([trainBatch(s)]));
        losses.push((await rep.optimizerStep(g, s + 1)).loss);
      }
      const after = (await rep.evaluate(val()))!.loss;
      expect(rep.model.config.causal).toBe(false);
      expect(after).toBeCloseTo(handMaskedEval(rep.model), 6); // the falling number is the masked-LM loss
      const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
      console.log(
        `masked LM: train loss ${mean(losses.slice(0, 5)).toFixed(3)} -> ${mean(losses.slice(-5)).toFixed(3)}, val ${before.toFixed(3)} -> ${after.toFixed(3)}`,
      );
      expect(before).toBeGreaterThan(10); // ~ln 50258 at initialisation
      expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 2);
      expect(after).toBeLessThan(before - 2);
    } finally {
      rep.dispose();
    }
  }, 120_000);

  it('never chooses padding (attention_mask 0) as a masked position', () => {
    const b = { ...batchOf(0, 4), attentionMask: new Uint8Array(4 * (SEQ + 1)).fill(1) };
    for (let r = 0; r < 4; r++) for (let i = 10 + r; i <= SEQ; i++) b.attentionMask[r * (SEQ + 1) + i] = 0;
    let chosen = 0;
    for (let seed = 0; seed < 50; seed++) {
      const m = maskedBatchOf(b, new Rng(seed), { ...masking, maskProb: 0.5 });
      for (const p of m.positions) expect(p % SEQ).toBeLessThan(10 + Math.floor(p / SEQ));
      chosen += m.positions.length;
    }
    expect(chosen).toBeGreaterThan(0.4 * 50 * (10 + 11 + 12 + 13));
    const allPad = { ...batchOf(0, 1), attentionMask: new Uint8Array(SEQ + 1) };
    expect(() => maskedBatchOf(allPad, new Rng(1), masking)).toThrow(/every position is excluded/);
  });

  it('enters the config hash only when used: the default causal config hashes as before these fields existed', () => {
    const old = trainConfig({
      runDir: 'r',
      model: { vocabSize: 50257, contextLength: 16, nLayer: 1, nHead: 2, dModel: 16 },
      data: { train: 'x' },
      steps: 12,
    });
    expect(configHash(old)).toBe('573832c639d576c3'); // computed by the code before objective, masking, init, activation, attnDropout
    const masked = trainConfig({ ...old, objective: 'masked' });
    expect(configHash(masked)).not.toBe(configHash(old));
    expect(configHash(trainConfig({ ...old, objective: 'masked', masking: { maskProb: 0.3 } }))).not.toBe(
      configHash(masked),
    );
  });
});
