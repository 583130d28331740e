// The alignment objectives on fixed tensors: hand-computed closed forms (in the comments) and golden
// values from an independent PyTorch implementation of TRL's formulas (golden/make_alignment_golden.py,
// float64, into golden/alignment.json).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { dpoLoss, dpoStats } from '../../src/nn/objective/dpo.ts';
import { gae, maskedMean, maskedVar, maskedWhiten } from '../../src/nn/objective/gae.ts';
import { entropyFromLogits, ppoLoss, ppoStats, type PpoTargets } from '../../src/nn/objective/ppo-loss.ts';
import { KlController, klEstimate, ppoRewards, sequenceKl } from '../../src/nn/objective/ppo.ts';
import { rewardLoss, rewardLossValue } from '../../src/nn/objective/reward.ts';

const g = JSON.parse(readFileSync(new URL('./golden/alignment.json', import.meta.url), 'utf8'));
const LN2 = 0.6931471805599453;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    expect(Math.abs(a[i]! - b[i]!), `index ${i}: ${a[i]} vs ${b[i]}`).toBeLessThan(tol);
}

/** The loss and its gradients w.r.t. the given leaves, through tf.grads. */
function gradsOf(
  f: (...xs: tf.Tensor1D[]) => tf.Scalar,
  xs: ArrayLike<number>[],
): { loss: number; grads: Float32Array[] } {
  const leaves = xs.map((x) => tf.tensor1d(Float32Array.from(x)));
  const { value, grads } = tf.valueAndGrads((...a: tf.Tensor[]) => f(...(a as tf.Tensor1D[])))(leaves);
  const out = { loss: value.dataSync()[0]!, grads: grads.map((x) => x.dataSync() as Float32Array) };
  tf.dispose([value, ...grads, ...leaves]);
  return out;
}

beforeAll(async () => {
  await initBackend({ announce: false });
});

describe('reward model: pairwise logistic loss', () => {
  it('equal rewards give ln 2 and accuracy 0 (ties are not right)', () => {
    const r = rewardLossValue([0.3, -1, 2], [0.3, -1, 2]);
    expect(r.loss).toBeCloseTo(LN2, 15);
    expect(r.accuracy).toBe(0);
    const { loss } = gradsOf(
      (c, rj) => rewardLoss(c, rj),
      [
        [0.3, -1, 2],
        [0.3, -1, 2],
      ],
    );
    expect(loss).toBeCloseTo(LN2, 6);
  });

  it('hand values: d = 2 gives log(1 + e^-2) = 0.126928; a margin of 1 makes it log(1 + e^-1) = 0.313262', () => {
    expect(rewardLossValue([3], [1]).loss).toBeCloseTo(0.12692801104297263, 12);
    expect(rewardLossValue([3], [1], [1]).loss).toBeCloseTo(0.31326168751822286, 12);
    // accuracy: 2 of 3 pairs ordered right
    expect(rewardLossValue([1, 2, 0], [0, 1, 5]).accuracy).toBeCloseTo(2 / 3, 15);
    // no overflow far out: -log sigmoid(-800) = 800
    expect(rewardLossValue([-800], [0]).loss).toBeCloseTo(800, 9);
  });

  it('gradient: dL/dr_c = -sigmoid(-(d - m)) / n = -dL/dr_r (closed form)', () => {
    const c = [0.5, -1.2, 2.0];
    const r = [0.1, 0.3, 2.5];
    const m = [0, 0.4, 1];
    const { loss, grads } = gradsOf((a, b) => rewardLoss(a, b, m), [c, r]);
    const closed = c.map((x, i) => -sigmoid(-(x - r[i]! - m[i]!)) / 3);
    expectClose(grads[0]!, closed, 1e-6);
    expectClose(
      grads[1]!,
      closed.map((x) => -x),
      1e-6,
    );
    expect(loss).toBeCloseTo(rewardLossValue(c, r, m).loss, 6);
    // far out the tf path neither overflows nor loses the gradient: d = -100 gives 100 and slope -1
    const far = gradsOf((a, b) => rewardLoss(a, b), [[-100], [0]]);
    expect(far.loss).toBeCloseTo(100, 4);
    expect(far.grads[0]![0]).toBeCloseTo(-1, 6);
  });

  it.each(['plain', 'with_margin'] as const)('PyTorch golden (%s): loss and gradients', (key) => {
    const x = g.reward;
    const m = key === 'plain' ? undefined : x.margin;
    const { loss, grads } = gradsOf((a, b) => rewardLoss(a, b, m), [x.chosen, x.rejected]);
    expect(loss).toBeCloseTo(x[key].loss, 6);
    expectClose(grads[0]!, x[key].grad_chosen, 1e-6);
    expectClose(grads[1]!, x[key].grad_rejected, 1e-6);
    const v = rewardLossValue(x.chosen, x.rejected, m);
    expect(v.loss).toBeCloseTo(x[key].loss, 12);
    expect(v.accuracy).toBe(x.accuracy);
  });

  it('rejects mismatched pairs and margins with a message', () => {
    expect(() => rewardLossValue([1, 2], [1])).toThrow(/2 chosen scores but 1 rejected/);
    expect(() => rewardLossValue([1], [1], [0, 1])).toThrow(/2 margins for 1 pairs/);
  });
});

describe('DPO', () => {
  const same = {
    policyChosen: [-12.5, -30],
    policyRejected: [-14, -29],
    refChosen: [-12.5, -30],
    refRejected: [-14, -29],
  };

  it('policy = reference: loss ln 2 = 0.6931471805599453, rewards 0, accuracy 0', () => {
    const s = dpoStats(same, { beta: 0.1 });
    expect(s.loss).toBe(LN2);
    expect([...s.rewardsChosen, ...s.rewardsRejected]).toEqual([0, 0, 0, 0]);
    expect(s.rewardAccuracy).toBe(0);
    // label smoothing does not move it: (1 - eps) ln 2 + eps ln 2
    expect(dpoStats(same, { beta: 0.1, labelSmoothing: 0.2 }).loss).toBeCloseTo(LN2, 15);
    const { loss } = gradsOf(
      (c, r) =>
        dpoLoss(
          { policyChosen: c, policyRejected: r, refChosen: same.refChosen, refRejected: same.refRejected },
          { beta: 0.1 },
        ),
      [same.policyChosen, same.policyRejected],
    );
    expect(loss).toBeCloseTo(LN2, 7);
  });

  it('hand value: beta 0.5, z = (-10 - -14) - (-12 - -13) = 3: loss = log(1 + e^-1.5) = 0.201413', () => {
    const x = { policyChosen: [-10], policyRejected: [-14], refChosen: [-12], refRejected: [-13] };
    const s = dpoStats(x, { beta: 0.5 });
    expect(s.loss).toBeCloseTo(0.20141327798275246, 12);
    expect(s.rewardsChosen[0]).toBe(1); // 0.5 * (-10 - -12)
    expect(s.rewardsRejected[0]).toBe(-0.5); // 0.5 * (-14 - -13)
    expect(s.rewardAccuracy).toBe(1);
    expect(s.rewardMargin).toBe(1.5);
  });

  it('gradient: dL/dlogp_c = -beta ((1 - eps) sigmoid(-beta z) - eps sigmoid(beta z)) / n = -dL/dlogp_r', () => {
    const x = {
      policyChosen: [-10, -20, -5],
      policyRejected: [-14, -18, -6],
      refChosen: [-12, -19, -5.5],
      refRejected: [-13, -19, -6.5],
    };
    for (const [beta, eps] of [
      [0.1, 0],
      [0.5, 0.2],
    ] as const) {
      const { loss, grads } = gradsOf(
        (c, r) =>
          dpoLoss(
            { policyChosen: c, policyRejected: r, refChosen: x.refChosen, refRejected: x.refRejected },
            { beta, labelSmoothing: eps },
          ),
        [x.policyChosen, x.policyRejected],
      );
      const closed = x.policyChosen.map((c, i) => {
        const z = c - x.policyRejected[i]! - (x.refChosen[i]! - x.refRejected[i]!);
        return (-beta * ((1 - eps) * sigmoid(-beta * z) - eps * sigmoid(beta * z))) / 3;
      });
      expectClose(grads[0]!, closed, 1e-7);
      expectClose(
        grads[1]!,
        closed.map((v) => -v),
        1e-7,
      );
      expect(loss).toBeCloseTo(dpoStats(x, { beta, labelSmoothing: eps }).loss, 6);
    }
  });

  it('PyTorch golden: loss, rewards, accuracy, margin and gradients for three beta / smoothing settings', () => {
    const d = g.dpo;
    const x = { refChosen: d.ref_chosen, refRejected: d.ref_rejected };
    for (const c of d.cases) {
      const o = { beta: c.beta, labelSmoothing: c.label_smoothing };
      const s = dpoStats({ ...x, policyChosen: d.policy_chosen, policyRejected: d.policy_rejected }, o);
      expect(s.loss).toBeCloseTo(c.loss, 12);
      expectClose(s.rewardsChosen, c.rewards_chosen, 1e-12);
      expectClose(s.rewardsRejected, c.rewards_rejected, 1e-12);
      expect(s.rewardAccuracy).toBe(c.reward_accuracy);
      expect(s.rewardMargin).toBeCloseTo(c.reward_margin, 12);
      const { loss, grads } = gradsOf(
        (pc, pr) => dpoLoss({ ...x, policyChosen: pc, policyRejected: pr }, o),
        [d.policy_chosen, d.policy_rejected],
      );
      expect(loss).toBeCloseTo(c.loss, 5);
      expectClose(grads[0]!, c.grad_policy_chosen, 1e-6);
      expectClose(grads[1]!, c.grad_policy_rejected, 1e-6);
    }
  });

  it('rejects a bad beta or smoothing', () => {
    expect(() => dpoStats(same, { beta: 0 })).toThrow(/beta 0 must be > 0/);
    expect(() => dpoStats(same, { beta: 0.1, labelSmoothing: 0.5 })).toThrow(/labelSmoothing 0.5/);
  });
});

describe('PPO: reward shaping, GAE, whitening', () => {
  const p = g.ppo;

  it('per-token rewards: -kl_coef (logp - ref) with the score added at the last response token (hand and golden)', () => {
    // logp - ref = [0.5, -1, (padding)]: rewards [-0.1, 0.2 + 3, 0]
    const r = ppoRewards([3], [-1, -2, -9], [-1.5, -1, 0], [1, 1, 0], 1, 3, 0.2);
    expectClose(r.rewards, [-0.1, 3.2, 0], 1e-12);
    expectClose(r.kl, [0.5, -1, 0], 1e-12);
    expect(sequenceKl(r.kl, 1, 3)).toBeCloseTo(-0.5, 12);
    expect(klEstimate(-1, -1.5, 'abs')).toBe(0.5);
    expect(klEstimate(-2, -1, 'mse')).toBe(0.5);
    const gr = ppoRewards(p.scores, p.logprobs, p.ref_logprobs, p.mask, p.B, p.T, p.kl_coef);
    expectClose(gr.rewards, p.rewards, 1e-12);
    expectClose(gr.nonScore, p.non_score, 1e-12);
  });

  it('GAE equals the recursion unrolled by hand, and padding after the last token is ignored', () => {
    // gamma 0.9, lambda 0.8, r = [1, 0, 2], V = [0.5, 0.2, 0.1]:
    // A2 = 2 - 0.1 = 1.9; A1 = (0.9 * 0.1 - 0.2) + 0.72 * 1.9 = 1.258; A0 = (1 + 0.9 * 0.2 - 0.5) + 0.72 * 1.258 = 1.58576
    const o = { gamma: 0.9, lambda: 0.8, whiten: false };
    const a = gae([1, 0, 2], [0.5, 0.2, 0.1], [1, 1, 1], 1, 3, o);
    expectClose(a.advantages, [1.58576, 1.258, 1.9], 1e-12);
    expectClose(a.returns, [2.08576, 1.458, 2.0], 1e-12);
    // row ends after two tokens: V after it is 0, so A1 = 0 - 0.2 = -0.2, A0 = 0.68 + 0.72 * -0.2 = 0.536
    const b = gae([1, 0, 7], [0.5, 0.2, 5], [1, 1, 0], 1, 3, o);
    expectClose(b.advantages.subarray(0, 2), [0.536, -0.2], 1e-12);
    expectClose(b.returns.subarray(0, 2), [1.036, 0], 1e-12);
  });

  it('GAE, returns and whitened advantages equal the PyTorch golden (TRL compute_advantages)', () => {
    const raw = gae(p.rewards, p.values, p.mask, p.B, p.T, { gamma: p.gamma, lambda: p.lambda, whiten: false });
    expectClose(raw.advantages, p.advantages, 1e-12);
    expectClose(raw.returns, p.returns, 1e-12);
    const w = gae(p.rewards, p.values, p.mask, p.B, p.T, { gamma: p.gamma, lambda: p.lambda });
    expectClose(w.advantages, p.whitened, 1e-9);
    expectClose(maskedWhiten(raw.advantages, p.mask, false), p.whitened_no_shift, 1e-9);
  });

  it('whitening: mean 0 and (unbiased) variance 1 over the mask; shiftMean false keeps the mean', () => {
    // hand: x = [1, 2, 3, (100 masked)]: mean 2, unbiased var (1 + 0 + 1) / 2 = 1, biased 2/3
    expect(maskedMean([1, 2, 3, 100], [1, 1, 1, 0])).toBe(2);
    expect(maskedVar([1, 2, 3, 100], [1, 1, 1, 0])).toBe(1);
    expect(maskedVar([1, 2, 3, 100], [1, 1, 1, 0], false)).toBeCloseTo(2 / 3, 15);
    const x = p.advantages as number[];
    const w = maskedWhiten(x, p.mask);
    expect(Math.abs(maskedMean(w, p.mask))).toBeLessThan(1e-12);
    expect(maskedVar(w, p.mask)).toBeCloseTo(1, 7);
    expect(maskedMean(maskedWhiten(x, p.mask, false), p.mask)).toBeCloseTo(maskedMean(x, p.mask), 12);
    expect(() => maskedVar([1, 2], [1, 0])).toThrow(/at least 2 tokens/);
  });

  it('adaptive KL coefficient: value *= 1 + clip(kl / target - 1, +-0.2) n / horizon (golden steps)', () => {
    const k = p.kl_controller;
    const c = new KlController(k.init, { target: k.target, horizon: k.horizon });
    for (const s of k.steps) expect(c.update(s.current, s.n_steps)).toBeCloseTo(s.value, 15);
    expect(new KlController(0.05).update(100, 8)).toBe(0.05);
  });
});

describe('PPO: clipped losses', () => {
  const o = { cliprange: 0.2, cliprangeValue: 0.2, vfCoef: 0.1 };
  const one = (adv: number, ret = 0): PpoTargets => ({
    oldLogprobs: [0],
    oldValues: [0],
    advantages: [adv],
    returns: [ret],
    mask: [1],
  });
  const run = (logp: number, v: number, t: PpoTargets) =>
    tf.tidy(() => {
      const lp = tf.scalar(logp);
      const vp = tf.scalar(v);
      const [gl, gv] = tf.grads((a: tf.Tensor, b: tf.Tensor) => ppoLoss(a, b, t, { ...o, vfCoef: 1 }).loss)([lp, vp]);
      return { pg: ppoLoss(lp, vp, t, o).pgLoss.dataSync()[0]!, gl: gl!.dataSync()[0]!, gv: gv!.dataSync()[0]! };
    });

  it.each([
    // [advantage, log ratio, pg loss, d pg / d logp, clipped?]: the larger (pessimistic) of -A r and -A clip(r)
    [1, 0.5, -1.2, 0, 1], // r = 1.6487 > 1.2 with A > 0: clipped at -1.2, no gradient
    [1, -0.5, -Math.exp(-0.5), -Math.exp(-0.5), 0], // r = 0.6065 < 0.8 with A > 0: unclipped -A r
    [-1, 0.5, Math.exp(0.5), Math.exp(0.5), 0], // r above the range with A < 0: unclipped
    [-1, -0.5, 0.8, 0, 1], // r below the range with A < 0: clipped at 0.8
  ])('policy: A %d, log ratio %d -> loss %d, gradient %d, clip fraction %d', (adv, lr, loss, grad, clip) => {
    const r = run(lr, 0, one(adv));
    expect(r.pg).toBeCloseTo(loss, 6);
    expect(r.gl).toBeCloseTo(grad, 6);
    expect(ppoStats([lr], [0], one(adv), o).pgClipfrac).toBe(clip);
  });

  it.each([
    // old V 0, return 1, range 0.2: V = 0.5 clips to 0.2, (0.2 - 1)^2 = 0.64 > 0.25: the clipped term, no gradient
    [0.5, 0.32, 0, 1],
    // V = -0.5 clips to -0.2: (-0.5 - 1)^2 = 2.25 > 1.44: unclipped, gradient 0.5 * 2 * (-1.5) = -1.5
    [-0.5, 1.125, -1.5, 0],
  ])('value: prediction %d -> loss %d, gradient %d, clip fraction %d', (v, loss, grad, clip) => {
    const t = one(0, 1);
    expect(run(0, v, t).gv).toBeCloseTo(grad, 6);
    const s = ppoStats([0], [v], t, o);
    expect(s.vfLoss).toBeCloseTo(loss, 12);
    expect(s.vfClipfrac).toBe(clip);
  });

  it('PyTorch golden (TRL PPOTrainer.loss): losses, clip fractions, KLs, ratio, gradients, entropy', () => {
    const p = g.ppo;
    const t: PpoTargets = {
      oldLogprobs: p.logprobs,
      oldValues: p.values,
      advantages: p.whitened,
      returns: p.returns,
      mask: p.mask,
    };
    const po = { cliprange: p.cliprange, cliprangeValue: p.cliprange_value, vfCoef: p.vf_coef };
    const s = ppoStats(p.new_logprobs, p.vpreds, t, po, p.entropy);
    expect(s.loss).toBeCloseTo(p.loss, 12);
    expect(s.pgLoss).toBeCloseTo(p.pg_loss, 12);
    expect(s.vfLoss).toBeCloseTo(p.vf_loss, 12);
    expect(s.pgClipfrac).toBeCloseTo(p.pg_clipfrac, 15);
    expect(s.vfClipfrac).toBeCloseTo(p.vf_clipfrac, 15);
    expect(s.approxKl).toBeCloseTo(p.approx_kl, 12);
    expect(s.policyKl).toBeCloseTo(p.policy_kl, 12);
    expect(s.ratio).toBeCloseTo(p.ratio, 12);
    const { loss, grads } = gradsOf((lp, v) => ppoLoss(lp, v, t, po).loss, [p.new_logprobs, p.vpreds]);
    expect(loss).toBeCloseTo(p.loss, 5);
    expectClose(grads[0]!, p.grad_logprobs, 1e-6);
    expectClose(grads[1]!, p.grad_vpreds, 1e-6);
    const ent = tf.tidy(() => entropyFromLogits(tf.tensor2d(p.entropy_logits, [p.B * p.T, 7])).dataSync());
    expectClose(ent, p.entropy, 1e-5);
  });
});
