// The scalar head (reward model / value head) and sequence log-probs on the tiny GPT of the parity
// tests, against PyTorch (golden/make_alignment_golden.py: the same weights, float64): per-token
// log-probs, entropies and sums over response tokens, DPO through the model with every gradient, reward
// scores at each row's last real token with the pairwise loss and every gradient, values at every position.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { gptConfig } from '../../src/nn/model/config.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import { lastRealIndex, ScalarHead, scalarHeadSpecs } from '../../src/nn/model/scalar-head.ts';
import { dpoLoss } from '../../src/nn/objective/dpo.ts';
import { autoregressiveLossValue, type PackedBatch } from '../../src/nn/objective/loss.ts';
import { rewardLoss, rewardScores } from '../../src/nn/objective/reward.ts';
import { sequenceLogprobs, sequenceLogprobsValue } from '../../src/nn/objective/sequence-logprobs.ts';
import { decodeF32, goldenParams, relErr } from './golden-params.ts';

const m = JSON.parse(readFileSync(new URL('./golden/alignment.json', import.meta.url), 'utf8')).model;
const LN2 = 0.6931471805599453;
const TOL = 1e-4;
const B = m.input_ids.length as number;
const T = m.input_ids[0].length - 1;
const d = m.config.dModel as number;

const rows: PackedBatch = {
  inputIds: Int32Array.from(m.input_ids.flat()),
  batch: B,
  seqLen: T,
  attentionMask: Uint8Array.from(m.attention_mask.flat()),
};
const responseMask = Uint8Array.from(m.response_mask.flat());
const headValues = (kind: 'score' | 'value_head') =>
  new Map([
    [`${kind}.weight`, Float32Array.from(m.head_weight)],
    [`${kind}.bias`, Float32Array.from(m.head_bias)],
  ]);

/** Gradients of f by parameter name over the model's and the head's variables. */
function namedGrads(
  f: () => tf.Scalar,
  sets: Map<string, tf.Variable>[],
): { loss: number; grads: Map<string, Float32Array> } {
  const byVar = new Map<string, string>();
  for (const s of sets) for (const [name, v] of s) byVar.set(v.name, name);
  const vars = sets.flatMap((s) => [...s.values()]);
  const { value, grads } = tf.variableGrads(f, vars);
  const out = new Map<string, Float32Array>();
  for (const [k, g] of Object.entries(grads)) out.set(byVar.get(k)!, Float32Array.from(g.dataSync() as Float32Array));
  const loss = value.dataSync()[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, grads: out };
}

function worst(grads: Map<string, Float32Array>, golden: Record<string, string>): { name: string; err: number } {
  expect([...grads.keys()].sort()).toEqual(Object.keys(golden).sort());
  let w = { name: '', err: 0 };
  for (const [name, g] of grads) {
    const err = relErr(g, decodeF32(golden[name]!));
    if (err > w.err) w = { name, err };
  }
  return w;
}

beforeAll(async () => {
  await initBackend({ announce: false });
});

describe('scalar head parameters', () => {
  it('score.* for a reward model, value_head.* for PPO: [d, 1] weight and [1] bias, marked with their adapter', () => {
    expect(scalarHeadSpecs(16, 'reward_head').map((s) => [s.name, s.shape, s.adapter])).toEqual([
      ['score.weight', [16, 1], 'reward_head'],
      ['score.bias', [1], 'reward_head'],
    ]);
    expect(scalarHeadSpecs(8, 'value_head').map((s) => s.name)).toEqual(['value_head.weight', 'value_head.bias']);
    const a = new ScalarHead(64, { kind: 'reward_head', seed: 3 });
    const b = new ScalarHead(64, { kind: 'reward_head', seed: 3 });
    const w = a.getParams().get('score.weight')!;
    expect(w).toEqual(b.getParams().get('score.weight'));
    expect(a.getParams().get('score.bias')).toEqual(new Float32Array(1));
    // N(0, 0.02) draws: the sample std of 64 is within a factor 2 of 0.02, and they are not all equal
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    expect(std).toBeGreaterThan(0.01);
    expect(std).toBeLessThan(0.04);
    a.dispose();
    b.dispose();
  });

  it('lastRealIndex finds each row last 1 under right or left padding, and rejects an empty row', () => {
    expect([...lastRealIndex([1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0], 3, 4)]).toEqual([1, 3, 2]);
    expect(() => lastRealIndex([1, 0, 0, 0], 2, 2)).toThrow(/row 1 has no real token/);
  });
});

describe.each(['js', 'tf'] as const)('on the tiny GPT against PyTorch (%s kernels)', (kernels) => {
  const make = () => {
    const model = Gpt.create(m.config, { values: goldenParams(gptConfig(m.config)) });
    model.kernels = kernels;
    return model;
  };

  it('per-token log-probs, entropies and sums over response tokens; prompt and padding give 0', () => {
    const model = make();
    const v = sequenceLogprobsValue(model, rows, responseMask, { entropy: true });
    for (let i = 0; i < B * T; i++) {
      expect(Math.abs(v.tokens[i]! - m.token_logprobs[i])).toBeLessThan(1e-5);
      expect(Math.abs(v.entropy![i]! - m.entropy[i])).toBeLessThan(1e-5);
    }
    for (let b = 0; b < B; b++) expect(Math.abs(v.sums[b]! - m.sums[b]) / Math.abs(m.sums[b])).toBeLessThan(TOL);
    const sums = tf.tidy(() => sequenceLogprobs(model, rows, responseMask).sums.dataSync());
    for (let b = 0; b < B; b++) expect(Math.abs(sums[b]! - m.sums[b]) / Math.abs(m.sums[b])).toBeLessThan(TOL);
    // padded positions' token ids do not matter
    const other = { ...rows, inputIds: rows.inputIds.map((t, i) => (rows.attentionMask![i] ? t : (t + 7) % 64)) };
    expect(sequenceLogprobsValue(model, other, responseMask).sums).toEqual(v.sums);
    model.dispose();
  });

  it('with every real token counted, -sum / count is the training loss (fused head, loss.ts)', () => {
    const model = make();
    const all = rows.attentionMask!;
    const v = sequenceLogprobsValue(model, rows, all);
    let count = 0;
    for (let b = 0; b < B; b++) for (let t = 1; t <= T; t++) count += all[b * (T + 1) + t]!;
    const total = v.sums.reduce((s, x) => s + x, 0);
    expect(-total / count).toBeCloseTo(autoregressiveLossValue(model, rows), 5);
    model.dispose();
  });

  it('DPO through the model: loss and every gradient; ln 2 with the model as its own reference', () => {
    const model = make();
    const pair = (s: tf.Tensor1D, i: number[]) => tf.gather(s, tf.tensor1d(i, 'int32')) as tf.Tensor1D;
    const ref = m.ref_logprobs as number[];
    const r = namedGrads(() => {
      const s = sequenceLogprobs(model, rows, responseMask).sums;
      const x = { refChosen: [ref[0]!, ref[2]!], refRejected: [ref[1]!, ref[3]!] };
      return dpoLoss({ ...x, policyChosen: pair(s, [0, 2]), policyRejected: pair(s, [1, 3]) }, { beta: m.beta });
    }, [model.params]);
    expect(Math.abs(r.loss - m.dpo_loss) / m.dpo_loss).toBeLessThan(TOL);
    const w = worst(r.grads, m.dpo_grads);
    expect(w.err, `worst gradient ${w.name}`).toBeLessThan(TOL);
    const self = tf.tidy(() => sequenceLogprobs(model, rows, responseMask).sums.dataSync());
    const init = tf.tidy(() => {
      const s = sequenceLogprobs(model, rows, responseMask).sums;
      const x = { refChosen: [self[0]!, self[2]!], refRejected: [self[1]!, self[3]!] };
      return dpoLoss(
        { ...x, policyChosen: pair(s, [0, 2]), policyRejected: pair(s, [1, 3]) },
        { beta: 0.1 },
      ).dataSync()[0]!;
    });
    expect(Math.abs(init - LN2)).toBeLessThan(1e-7);
    model.dispose();
  });

  it('reward model: scores at the last real token, pairwise loss with margins, every gradient (model and score.*)', () => {
    const model = make();
    const head = new ScalarHead(d, { kind: 'reward_head', values: headValues('score') });
    const input = { ids: new Int32Array(B * T), batch: B, seqLen: T };
    const mask = new Uint8Array(B * T);
    for (let b = 0; b < B; b++) {
      input.ids.set(rows.inputIds.subarray(b * (T + 1), b * (T + 1) + T), b * T);
      mask.set(rows.attentionMask!.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    }
    const last = lastRealIndex(mask, B, T);
    expect([...last]).toEqual(m.last_index);
    const scores = tf.tidy(() => rewardScores(model, head, input, last).dataSync());
    for (let b = 0; b < B; b++) expect(Math.abs(scores[b]! - m.scores[b])).toBeLessThan(1e-5);
    const r = namedGrads(() => {
      const s = rewardScores(model, head, input, last);
      const pick = (i: number[]) => tf.gather(s, tf.tensor1d(i, 'int32')) as tf.Tensor1D;
      return rewardLoss(pick([0, 2]), pick([1, 3]), m.margin);
    }, [model.params, head.params]);
    expect(Math.abs(r.loss - m.reward_loss) / m.reward_loss).toBeLessThan(TOL);
    const w = worst(r.grads, m.reward_grads);
    expect(w.err, `worst gradient ${w.name}`).toBeLessThan(TOL);
    // the value head: the same linear map at every position
    const vh = new ScalarHead(d, { kind: 'value_head', values: headValues('value_head') });
    const values = tf.tidy(() => vh.values(model.hidden(input)).dataSync());
    for (let i = 0; i < B * T; i++) expect(Math.abs(values[i]! - m.values[i])).toBeLessThan(1e-5);
    for (const x of [model, head, vh]) x.dispose();
  });
});
