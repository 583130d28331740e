import { describe, expect, it } from 'vitest';
import {
  binIndex,
  brierAggregate,
  calibration,
  eceAggregate,
  mcCalibrationItems,
  mceAggregate,
  multiclassBrier,
} from '../../operators/eval/metrics/calibration.ts';

// The double just below x (one ulp down), to probe bin edges.
const below = (x: number): number => {
  const f = new Float64Array([x]);
  const u = new BigInt64Array(f.buffer);
  u[0] = (u[0] as bigint) - 1n;
  return f[0] as number;
};

describe('calibration: published expectations', () => {
  // Fixture: torchmetrics, src/torchmetrics/functional/classification/calibration_error.py, the doctest of
  // binary_calibration_error (confidences = preds, accuracies = target): n_bins=2 gives l1 0.2900, max 0.3167.
  it("torchmetrics' binary_calibration_error doctest", () => {
    const r = calibration([0.25, 0.25, 0.55, 0.75, 0.75], [0, 0, 1, 1, 1], 2);
    expect(r.ece).toBeCloseTo(0.29, 4);
    expect(r.mce).toBeCloseTo(0.3167, 4);
    // by hand: (0.0625 + 0.0625 + 0.2025 + 0.0625 + 0.0625) / 5 = 0.4525 / 5
    expect(r.brier).toBeCloseTo(0.0905, 12);
  });

  // Fixture: the same file, the doctest of multiclass_calibration_error: these four rows, targets [0, 1, 2, 0],
  // n_bins=3 give l1 0.2000 and max 0.2333. Fed as log-probabilities, softmax gives the rows back.
  it("torchmetrics' multiclass_calibration_error doctest, through mcCalibrationItems", () => {
    const rows = [
      [0.25, 0.2, 0.55],
      [0.55, 0.05, 0.4],
      [0.1, 0.3, 0.6],
      [0.9, 0.05, 0.05],
    ];
    const items = rows.map((row, i) => mcCalibrationItems(row.map(Math.log), [0, 1, 2, 0][i] as number));
    items.forEach((it, i) => {
      (rows[i] as number[]).forEach((p, k) => expect(it.probs[k]).toBeCloseTo(p, 12));
    });
    expect(items.map((it) => it.correct)).toEqual([false, false, true, true]);
    const r = calibration(
      items.map((it) => it.confidence),
      items.map((it) => it.correct),
      3,
    );
    expect(r.ece).toBeCloseTo(0.2, 4);
    expect(r.mce).toBeCloseTo(0.2333, 4);
  });
});

describe('calibration: hand-computed vectors', () => {
  it('confidence 1.0, an exact bin edge (0.2 = 3/15), empty bins, 15 bins', () => {
    // bins of width 1/15. 1.0 -> last bin (14); 0.95*15 = 14.25 -> bin 14; 0.2 -> bin 3 exactly (0.2*15 === 3
    // in doubles, and 0.2 === 3/15); 0.5*15 = 7.5 -> bin 7.
    // bin 14: conf (1 + 1 + 0.95)/3 = 0.98333.., acc 2/3, gap 0.31666.., weight 3/6 -> 19/120
    // bin 3:  conf 0.2, acc 1/2, gap 0.3, weight 2/6 -> 12/120
    // bin 7:  conf 0.5, acc 0, gap 0.5, weight 1/6 -> 10/120
    // ECE = 41/120 = 0.341666..; MCE = 0.5
    // Brier = (0 + 1 + 0.04 + 0.64 + 0.0025 + 0.25) / 6 = 1.9325 / 6 = 0.32208333..
    const r = calibration([1, 1, 0.2, 0.2, 0.95, 0.5], [1, 0, 0, 1, true, false]);
    expect(r.n).toBe(6);
    expect(r.ece).toBeCloseTo(41 / 120, 12);
    expect(r.mce).toBeCloseTo(0.5, 12);
    expect(r.brier).toBeCloseTo(0.32208333333333333, 12);
    expect(r.bins).toHaveLength(15);
    expect(r.bins.map((b) => b.count)).toEqual([0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3]);
    const last = r.bins[14];
    expect(last?.lower).toBeCloseTo(14 / 15, 15);
    expect(last?.upper).toBe(1);
    expect(last?.confidence).toBeCloseTo(2.95 / 3, 12);
    expect(last?.accuracy).toBeCloseTo(2 / 3, 12);
    expect(r.bins[3]).toMatchObject({ count: 2, confidence: 0.2, accuracy: 0.5 });
    // empty bins have nothing to average
    expect(r.bins[0]?.confidence).toBeNaN();
    expect(r.bins[0]?.accuracy).toBeNaN();
  });

  it('bin edges: a double on an edge opens the upper bin, the double just below stays in the lower one', () => {
    // 0.8999999999999999 * 10 rounds to exactly 9 in floating point, yet it is below the edge 0.9
    expect(below(0.9) * 10).toBe(9);
    expect(binIndex(below(0.9), 10)).toBe(8);
    expect(binIndex(0.9, 10)).toBe(9);
    // 0.1 + 0.2 = 0.30000000000000004 is above 0.3: bin 3 of 10, not 2
    expect(binIndex(0.1 + 0.2, 10)).toBe(3);
    expect(binIndex(below(0.2), 15)).toBe(2);
    expect(binIndex(0, 15)).toBe(0);
    expect(binIndex(1, 15)).toBe(14);
    expect(binIndex(1, 1)).toBe(0);
    // every edge k/B is the first value of bin k
    for (const B of [2, 3, 7, 10, 15, 20, 30])
      for (let k = 0; k < B; k++) {
        expect(binIndex(k / B, B)).toBe(k);
        if (k > 0) expect(binIndex(below(k / B), B)).toBe(k - 1);
      }
  });

  it('the edge rule decides ECE: the value just below 0.9 and 0.9 land in different bins', () => {
    // 10 bins. below(0.9) -> bin 8 (conf ~0.9, acc 1, gap ~0.1); 0.9 -> bin 9 (conf 0.9, acc 0, gap 0.9).
    // ECE = (0.1 + 0.9) / 2 = 0.5. Were both in bin 9: conf 0.9, acc 0.5, gap 0.4 -> ECE 0.4.
    const r = calibration([below(0.9), 0.9], [1, 0], 10);
    expect(r.ece).toBeCloseTo(0.5, 12);
    expect(r.mce).toBeCloseTo(0.9, 12);
  });

  it('all correct and all wrong', () => {
    // certain and right: no gap, no Brier loss
    expect(calibration([1, 1, 1], [1, 1, 1])).toMatchObject({ ece: 0, mce: 0, brier: 0 });
    // certain and wrong: gap 1, Brier 1
    expect(calibration([1, 1], [false, false])).toMatchObject({ ece: 1, mce: 1, brier: 1 });
    // 0.6 sure, always wrong: one bin (9 of 15), gap 0.6; Brier 0.36
    const r = calibration([0.6, 0.6, 0.6, 0.6], [0, 0, 0, 0]);
    expect(r.ece).toBeCloseTo(0.6, 12);
    expect(r.mce).toBeCloseTo(0.6, 12);
    expect(r.brier).toBeCloseTo(0.36, 12);
    expect(r.bins[9]?.count).toBe(4);
    // 0.6 sure, always right: gap 0.4, Brier 0.16
    const s = calibration([0.6, 0.6], [true, true]);
    expect(s.ece).toBeCloseTo(0.4, 12);
    expect(s.brier).toBeCloseTo(0.16, 12);
  });

  it('typed arrays, as LoglikelihoodResult carries per-token confidence and correct', () => {
    // 2 bins: [0.3, 0.4] in bin 0: conf 0.35, acc 0.5, gap 0.15; [0.8] in bin 1: gap 0.2. ECE = (2*0.15 + 0.2)/3
    const r = calibration(new Float64Array([0.3, 0.4, 0.8]), new Uint8Array([1, 0, 1]), 2);
    expect(r.ece).toBeCloseTo(0.5 / 3, 12);
    expect(r.mce).toBeCloseTo(0.2, 12);
  });
});

describe('multiclassBrier (Brier 1950)', () => {
  it('sums the squared error over every class', () => {
    // item 1: (0.7-1)^2 + 0.2^2 + 0.1^2 = 0.09 + 0.04 + 0.01 = 0.14
    // item 2 (label 2): 0.1^2 + 0.5^2 + (0.4-1)^2 = 0.01 + 0.25 + 0.36 = 0.62; mean 0.38
    expect(
      multiclassBrier(
        [
          [0.7, 0.2, 0.1],
          [0.1, 0.5, 0.4],
        ],
        [0, 2],
      ),
    ).toBeCloseTo(0.38, 12);
    // two classes: twice the binary score, 2 * 0.2^2
    expect(multiclassBrier([[0.8, 0.2]], [0])).toBeCloseTo(0.08, 12);
    // certain and wrong: 1 + 1
    expect(multiclassBrier([[0, 1, 0]], [0])).toBe(2);
  });

  it('says which item is wrong', () => {
    expect(() => multiclassBrier([[0.5, 0.5]], [2])).toThrow(/labels\[0\] is 2/);
    expect(() =>
      multiclassBrier(
        [
          [0.5, 0.5],
          [1.5, 0],
        ],
        [0, 0],
      ),
    ).toThrow(/probs\[1\]\[0\] is 1.5/);
    expect(() => multiclassBrier([[1, 0]], [])).toThrow(/1 probability rows but 0 labels/);
  });
});

describe('mcCalibrationItems', () => {
  it('softmax over the choices, the max as confidence, argmax == gold as correct', () => {
    const it1 = mcCalibrationItems([Math.log(0.2), Math.log(0.5), Math.log(0.3)], 1);
    expect(it1.confidence).toBeCloseTo(0.5, 12);
    expect(it1.correct).toBe(true);
    expect(mcCalibrationItems([Math.log(0.2), Math.log(0.5), Math.log(0.3)], 2).correct).toBe(false);
    // only differences matter, and large magnitudes do not underflow: logistic(1) = 0.7310585786300049
    const it2 = mcCalibrationItems([-1000, -1001], 0);
    expect(it2.confidence).toBeCloseTo(0.7310585786300049, 14);
    expect(it2.probs[1]).toBeCloseTo(1 - 0.7310585786300049, 14);
    // a tie goes to the first choice
    expect(mcCalibrationItems([-3, -3], 1)).toMatchObject({ confidence: 0.5, correct: false });
    // a ruled-out choice has probability 0
    expect(mcCalibrationItems([Number.NEGATIVE_INFINITY, -2], 1).probs).toEqual([0, 1]);
  });

  it('rejects what has no distribution', () => {
    expect(() => mcCalibrationItems([], 0)).toThrow(/no choices/);
    expect(() => mcCalibrationItems([-1, -2], 2)).toThrow(/gold is 2/);
    expect(() => mcCalibrationItems([-1, Number.NaN], 0)).toThrow(/choiceLogliks\[1\] is NaN/);
    expect(() => mcCalibrationItems([Number.NEGATIVE_INFINITY], 0)).toThrow(/every choice/);
  });
});

describe('aggregates over {confidence, correct} items', () => {
  it('give the same numbers as calibration()', () => {
    // the torchmetrics binary fixture again, as items
    const items = [0.25, 0.25, 0.55, 0.75, 0.75].map((confidence, i) => ({ confidence, correct: i >= 2 }));
    expect(eceAggregate(items)).toBeCloseTo(0.29, 4);
    expect(brierAggregate(items)).toBeCloseTo(0.0905, 12);
    // 15 bins: 0.25 -> bin 3, 0.55 -> bin 8, 0.75 -> bin 11; gaps 0.25, 0.45, 0.25 -> MCE 0.45
    expect(mceAggregate(items)).toBeCloseTo(0.45, 12);
  });

  it('take per-token items (arrays, as LoglikelihoodResult carries them) and flatten them', () => {
    // the same five predictions split over two documents' tokens
    const items = [
      { confidence: new Float64Array([0.25, 0.25]), correct: new Uint8Array([0, 0]) },
      { confidence: [0.55, 0.75, 0.75], correct: [true, true, true] },
    ];
    expect(eceAggregate(items)).toBeCloseTo(0.29, 4);
    expect(brierAggregate(items)).toBeCloseTo(0.0905, 12);
    expect(() => eceAggregate([{ confidence: [0.5, 0.6], correct: [1] }])).toThrow(/item 0 .*equal-length arrays/);
  });

  it('name a malformed item', () => {
    expect(() => eceAggregate([{ confidence: 0.5, correct: true }, 0.7])).toThrow(/ece: item 1 is 0.7/);
    expect(() => eceAggregate([{ confidence: 0.5, correct: 'yes' }])).toThrow(/correct\[0\] is yes/);
  });
});

describe('input validation', () => {
  it('says what is wrong and where', () => {
    expect(() => calibration([0.5, 0.5], [1])).toThrow(/2 confidences but 1 correct flags/);
    expect(() => calibration([0.5, 0.5, Number.NaN], [1, 1, 1])).toThrow(/confidence\[2\] is NaN/);
    expect(() => calibration([1.5], [1])).toThrow(/confidence\[0\] is 1.5.*\[0, 1\]/);
    expect(() => calibration([-0.1], [1])).toThrow(/confidence\[0\] is -0.1/);
    expect(() => calibration([0.3, Number.POSITIVE_INFINITY], [1, 1])).toThrow(/confidence\[1\] is Infinity/);
    expect(() => calibration([0.5], [2])).toThrow(/correct\[0\] is 2/);
    expect(() => calibration([], [])).toThrow(/no predictions/);
    expect(() => calibration([0.5], [1], 0)).toThrow(/bins must be a positive integer, got 0/);
    expect(() => calibration([0.5], [1], 2.5)).toThrow(/got 2.5/);
  });
});
