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
