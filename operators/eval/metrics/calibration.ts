// Calibration of a model's confidence: does it get 70% of the answers it is 70% sure of right?
// Top-label binned estimates (Guo et al. 2017, "On Calibration of Modern Neural Networks"): ECE, MCE and a
// top-label Brier score, plus the original multi-class Brier score (Brier 1950) and the pieces a
// multiple-choice task needs to report them (softmax over its choices' log-likelihoods, MetricSpec aggregates).

/** One equal-width confidence bin. `confidence` and `accuracy` are NaN when the bin is empty (count 0):
 * there is nothing to average, and 0 would draw as a real (badly calibrated) bin. */
export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** mean confidence of the bin's predictions */
  confidence: number;
  /** fraction of the bin's predictions that were correct */
  accuracy: number;
}

export interface Calibration {
  /** expected calibration error: sum over bins of (count/n) * |accuracy - confidence| */
  ece: number;
  /** maximum calibration error: the largest |accuracy - confidence| over non-empty bins */
  mce: number;
  /** TOP-LABEL Brier score: mean of (confidence - correct)^2 over predictions; not Brier's own
   * multi-class score, which is `multiclassBrier` */
  brier: number;
  n: number;
  bins: CalibrationBin[];
}

/** The bin of confidence `c` among `bins` equal-width bins. The edges are the doubles i/bins, and bin i holds
 * edge_i <= c < edge_{i+1}; 1.0 goes in the last bin. Comparing with the edges themselves (not trusting
 * floor(c * bins)) keeps the half-open rule exact: 0.8999999999999999 * 10 rounds to 9, yet that double is
 * below the edge 9/10 = 0.9 and belongs to bin 8; 0.2 (which is 3/15 as a double) is in bin 3 of 15. */
export function binIndex(c: number, bins: number): number {
  let i = Math.min(bins - 1, Math.floor(c * bins));
  if (i > 0 && c < i / bins) i--;
  else if (i < bins - 1 && c >= (i + 1) / bins) i++;
  return i;
}

function checkBins(bins: number): void {
  if (!Number.isInteger(bins) || bins < 1)
    throw new RangeError(`calibration: bins must be a positive integer, got ${bins}; 15 is the usual choice`);
}

function asCorrect(v: unknown, i: number, where: string): number {
  if (v === true || v === 1) return 1;
  if (v === false || v === 0) return 0;
  throw new RangeError(`${where}: correct[${i}] is ${String(v)}; pass true/false or 1/0`);
}

/**
 * Top-label calibration of `confidence` (the probability the model gave its chosen answer, in [0, 1]) against
 * `correct` (whether that answer was right), in `bins` equal-width bins. Throws on different lengths, no
 * predictions, or a confidence that is not a finite number in [0, 1] (naming its index).
 */
export function calibration(
  confidence: ArrayLike<number>,
  correct: ArrayLike<number | boolean>,
  bins = 15,
): Calibration {
  checkBins(bins);
  const n = confidence.length;
  if (correct.length !== n)
    throw new RangeError(
      `calibration: ${n} confidences but ${correct.length} correct flags; pass one flag per prediction`,
    );
  if (n === 0) throw new RangeError('calibration: no predictions; calibration needs at least one');
  const count = new Float64Array(bins);
  const confSum = new Float64Array(bins);
  const hits = new Float64Array(bins);
  let brierSum = 0;
  for (let i = 0; i < n; i++) {
    const c = confidence[i] as number;
    if (typeof c !== 'number' || !Number.isFinite(c) || c < 0 || c > 1)
      throw new RangeError(`calibration: confidence[${i}] is ${String(c)}; confidences are probabilities in [0, 1]`);
    const y = asCorrect(correct[i], i, 'calibration');
    const b = binIndex(c, bins);
    count[b] = (count[b] as number) + 1;
    confSum[b] = (confSum[b] as number) + c;
    hits[b] = (hits[b] as number) + y;
    brierSum += (c - y) ** 2;
  }
  let ece = 0;
  let mce = 0;
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const k = count[b] as number;
    const conf = k > 0 ? (confSum[b] as number) / k : Number.NaN;
    const acc = k > 0 ? (hits[b] as number) / k : Number.NaN;
    if (k > 0) {
      const gap = Math.abs(acc - conf);
      ece += (k / n) * gap;
      mce = Math.max(mce, gap);
    }
    out.push({ lower: b / bins, upper: (b + 1) / bins, count: k, confidence: conf, accuracy: acc });
  }
  return { ece, mce, brier: brierSum / n, n, bins: out };
}

/**
 * Brier's (1950) original score for K classes: the mean over items of sum_k (probs[k] - onehot(label)[k])^2,
 * from 0 (certain and right) to 2 (certain and wrong). This is NOT the top-label `brier` of `calibration`,
 * which scores only the chosen answer's probability (0 to 1); for two classes Brier's score is twice the
 * binary one.
 */
export function multiclassBrier(probs: readonly (readonly number[])[], labels: readonly number[]): number {
  if (probs.length !== labels.length)
    throw new RangeError(`multiclassBrier: ${probs.length} probability rows but ${labels.length} labels`);
  if (probs.length === 0) throw new RangeError('multiclassBrier: no items; pass at least one');
  let total = 0;
  probs.forEach((row, i) => {
    const label = labels[i] as number;
    if (!Number.isInteger(label) || label < 0 || label >= row.length)
      throw new RangeError(`multiclassBrier: labels[${i}] is ${label}, not a class index in 0..${row.length - 1}`);
    row.forEach((p, k) => {
      if (!Number.isFinite(p) || p < 0 || p > 1)
        throw new RangeError(`multiclassBrier: probs[${i}][${k}] is ${p}; probabilities are in [0, 1]`);
      total += (p - (k === label ? 1 : 0)) ** 2;
    });
  });
  return total / probs.length;
}

/** One multiple-choice answer as calibration sees it. */
export interface CalibrationItem {
  /** the probability of the chosen (argmax) choice */
  confidence: number;
  correct: boolean;
}

/**
 * The calibration item of one multiple-choice question from its choices' log-likelihoods: the softmax over
 * the choices (the model's probabilities restricted to them), the top choice's probability as confidence,
 * and whether the top choice is `gold`. Ties go to the first choice, like argmax in numpy and torch.
 * -Infinity (a choice the model rules out) is allowed; NaN and +Infinity are not.
 */
export function mcCalibrationItems(
  choiceLogliks: readonly number[],
  gold: number,
): CalibrationItem & { probs: number[] } {
  const k = choiceLogliks.length;
  if (k === 0) throw new RangeError('mcCalibrationItems: no choices; pass one log-likelihood per choice');
  if (!Number.isInteger(gold) || gold < 0 || gold >= k)
    throw new RangeError(`mcCalibrationItems: gold is ${gold}, not a choice index in 0..${k - 1}`);
  let best = 0;
  choiceLogliks.forEach((ll, i) => {
    if (Number.isNaN(ll) || ll === Number.POSITIVE_INFINITY)
      throw new RangeError(`mcCalibrationItems: choiceLogliks[${i}] is ${ll}; log-likelihoods are finite or -Infinity`);
    if (ll > (choiceLogliks[best] as number)) best = i;
  });
  const max = choiceLogliks[best] as number;
  if (max === Number.NEGATIVE_INFINITY)
    throw new RangeError('mcCalibrationItems: every choice has log-likelihood -Infinity; no distribution to take');
  // subtracting the max keeps exp() from overflowing or underflowing to all zeros
  const e = choiceLogliks.map((ll) => Math.exp(ll - max));
  const z = e.reduce((a, b) => a + b, 0);
  const probs = e.map((v) => v / z);
  return { confidence: probs[best] as number, correct: best === gold, probs };
}

const isArrayLike = (x: unknown): x is ArrayLike<unknown> =>
  typeof x === 'object' && x !== null && typeof (x as ArrayLike<unknown>).length === 'number';

/** Flattens items: one prediction {confidence: number, correct}, or one per token {confidence: number[],
 * correct: (0|1|boolean)[]} as LoglikelihoodResult carries them (typed arrays too). */
function itemsToArrays(items: readonly unknown[], where: string): [number[], (number | boolean)[]] {
  const conf: number[] = [];
  const ok: (number | boolean)[] = [];
  items.forEach((it, i) => {
    const o = it as { confidence?: unknown; correct?: unknown } | null;
    const c = typeof o === 'object' && o !== null ? o.confidence : undefined;
    if (typeof c === 'number') {
      conf.push(c);
      ok.push(asCorrect(o?.correct, i, where));
    } else if (isArrayLike(c) && isArrayLike(o?.correct) && o.correct.length === c.length) {
      for (let k = 0; k < c.length; k++) {
        conf.push(c[k] as number);
        ok.push(asCorrect(o.correct[k], i, where));
      }
    } else {
      const shown = JSON.stringify(it) ?? String(it);
      throw new TypeError(
        `${where}: item ${i} is ${shown}; items are {confidence, correct} of numbers or of equal-length arrays (see ` +
          `mcCalibrationItems)`,
      );
    }
  });
  return [conf, ok];
}

/** MetricSpec aggregates over {confidence, correct} items, per document or per token (15 bins, the usual
 * choice). */
export const eceAggregate = (items: readonly unknown[]): number => calibration(...itemsToArrays(items, 'ece')).ece;
export const mceAggregate = (items: readonly unknown[]): number => calibration(...itemsToArrays(items, 'mce')).mce;
export const brierAggregate = (items: readonly unknown[]): number =>
  calibration(...itemsToArrays(items, 'brier')).brier;
