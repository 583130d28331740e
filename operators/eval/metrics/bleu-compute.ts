// BLEU from its sufficient statistics, exactly as sacrebleu 2.x BLEU.compute_bleu: brevity penalty,
// the four smoothing methods of Chen & Cherry (2014), effective order, the #141 early zero.

export type SmoothMethod = 'exp' | 'floor' | 'add-k' | 'none';

/** sacrebleu's BLEU.SMOOTH_DEFAULTS: floor 0.1 and add-k 1 (Chen & Cherry 2014); the others take no value. */
export const SMOOTH_DEFAULTS: Readonly<Record<SmoothMethod, number | null>> = {
  none: null,
  floor: 0.1,
  'add-k': 1,
  exp: null,
};

/** sacrebleu's default maximum n-gram order. */
export const MAX_NGRAM_ORDER = 4;

export interface BleuResult {
  name: 'BLEU';
  /** 0..100. */
  score: number;
  /** Matched n-grams per order 1..maxNgramOrder (add-k smoothing adds k to orders >= 2, as sacrebleu reports). */
  counts: number[];
  /** Hypothesis n-grams per order (likewise add-k). */
  totals: number[];
  /** Per-order precision in 0..100 after smoothing; all 0 when nothing matched. */
  precisions: number[];
  /** Brevity penalty. */
  bp: number;
  sysLen: number;
  refLen: number;
  /** sysLen / refLen, 0 when refLen is 0. */
  ratio: number;
}

export interface ComputeBleuOptions {
  /** Default 'none' (sacrebleu's compute_bleu default; the BLEU metric itself defaults to 'exp'). */
  smoothMethod?: SmoothMethod;
  /** For 'floor' and 'add-k'; null or absent means the method's default. */
  smoothValue?: number | null;
  effectiveOrder?: boolean;
  maxNgramOrder?: number;
}

/** sacrebleu's my_log: log, with log(0) floored to -9999999999 so the score becomes 0 instead of NaN. */
function myLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/** The BLEU score of corpus statistics (correct/total n-grams per order, system and reference lengths). */
export function computeBleu(
  correctIn: readonly number[],
  totalIn: readonly number[],
  sysLen: number,
  refLen: number,
  opts: ComputeBleuOptions = {},
): BleuResult {
  const method = opts.smoothMethod ?? 'none';
  if (!(method in SMOOTH_DEFAULTS)) {
    throw new Error(
      `computeBleu: unknown smoothMethod '${method}'; use one of ${Object.keys(SMOOTH_DEFAULTS).join(', ')}`,
    );
  }
  const maxOrder = opts.maxNgramOrder ?? MAX_NGRAM_ORDER;
  const smoothValue = opts.smoothValue ?? SMOOTH_DEFAULTS[method] ?? 0;
  const correct = [...correctIn];
  const total = [...totalIn];
  const ratio = refLen ? sysLen / refLen : 0;

  let bp = 1.0;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0.0;

  const precisions: number[] = new Array<number>(maxOrder).fill(0);
  const result = (score: number): BleuResult => ({
    name: 'BLEU',
    score,
    counts: correct,
    totals: total,
    precisions,
    bp,
    sysLen,
    refLen,
    ratio,
  });

  // No match of any order: 0, whatever the smoothing (sacrebleu #141).
  if (!correct.some((c) => c !== 0)) return result(0.0);

  let smoothMteval = 1.0;
  let effOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (method === 'add-k' && n > 1) {
      correct[n - 1] = (correct[n - 1] ?? 0) + smoothValue;
      total[n - 1] = (total[n - 1] ?? 0) + smoothValue;
    }
    const c = correct[n - 1] ?? 0;
    const t = total[n - 1] ?? 0;
    if (t === 0) break;
    // Effective order: only the orders the hypothesis has n-grams of count (sentence-level BLEU).
    if (opts.effectiveOrder) effOrder = n;
    if (c === 0) {
      if (method === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * t);
      } else if (method === 'floor') {
        precisions[n - 1] = (100 * smoothValue) / t;
      }
    } else {
      precisions[n - 1] = (100 * c) / t;
    }
  }

  let logSum = 0;
  for (const p of precisions.slice(0, effOrder)) logSum += myLog(p);
  return result(bp * Math.exp(logSum / effOrder));
}
