// Calibration of next-token predictions on held-out text: at every token of a passage, the model's
// most likely next token has a probability (its confidence) and is right or wrong; a calibrated model
// is right at 70% of the tokens it gives 70%. Each document is one loglikelihood request: context =
// a passage's first sentence, continuation = the rest of the passage; the harness returns, per
// continuation token, the argmax's probability and whether the argmax was the token. Those pairs of
// every token of every document go into 15 equal-width bins (Guo et al. 2017): ece, mce and the
// top-label brier score, and token_accuracy, the share of tokens that were the argmax (over tokens, not
// a mean over documents). A rolling request would not do: it returns no per-token confidence.
// Passages are whole sentences of one paragraph, at most 70 words (about 100 GPT-2 tokens, so one fits
// a 128-token context), the continuation at least 20 words.
import { calibration } from '../metrics/calibration.ts';
import { calibrationArrays } from '../reliability-plots.ts';
import { defineTask, type MetricItem } from '../../../src/eval/task.ts';
import { heldoutPassages } from './heldout.ts';
import { sentences } from './lambada-moby-sotu.ts';

export interface CalibrationDoc {
  /** `<held-out doc id>#<paragraph>.<first sentence>` */
  id: string;
  source: string;
  /** the passage's first sentence */
  context: string;
  /** the rest of the passage, without its leading space */
  rest: string;
}

/** The settings that change the documents. */
export const CALIBRATION_CONFIG = {
  minContextWords: 5,
  maxPassageWords: 70,
  minRestWords: 20,
  maxDocs: 200,
  bins: 15,
  split: 'heldout.ts: Moby-Dick chapters and SOTU years that are multiples of 20',
} as const;

const wordCount = (s: string): number => s.split(' ').filter((w) => w.length > 0).length;

/** The passages of one paragraph, in order and not overlapping: from each start, a first sentence of
 * >= minContextWords words, then as many following sentences as keep the passage <= maxPassageWords. */
export function calibrationPassages(idPrefix: string, paragraph: string): Omit<CalibrationDoc, 'source'>[] {
  const c = CALIBRATION_CONFIG;
  const sents = sentences(paragraph);
  const out: Omit<CalibrationDoc, 'source'>[] = [];
  let start = 0;
  while (start < sents.length) {
    const first = wordCount(sents[start]!);
    let end = start + 1;
    let rest = 0;
    while (end < sents.length && first + rest + wordCount(sents[end]!) <= c.maxPassageWords)
      rest += wordCount(sents[end++]!);
    if (first < c.minContextWords || rest < c.minRestWords) {
      start++;
      continue;
    }
    out.push({ id: `${idPrefix}.${start}`, context: sents[start]!, rest: sents.slice(start + 1, end).join(' ') });
    start = end;
  }
  return out;
}

let all: readonly CalibrationDoc[] | undefined;

/** Every passage of the held-out documents in a fixed pseudo-random order (a hash of the id); the
 * first maxDocs. */
export function calibrationDocs(): readonly CalibrationDoc[] {
  all ??= Object.freeze(heldoutPassages('next-token-calibration', calibrationPassages, CALIBRATION_CONFIG.maxDocs));
  return all;
}

const binned = (items: readonly MetricItem[]) => calibration(...calibrationArrays(items), CALIBRATION_CONFIG.bins);

/** The share of tokens whose argmax was right, over every token of every item. */
export const tokenAccuracy = (items: readonly MetricItem[]): number => {
  const [, correct] = calibrationArrays(items);
  if (correct.length === 0) return Number.NaN;
  let hits = 0;
  for (const y of correct) hits += y;
  return hits / correct.length;
};

export default defineTask<CalibrationDoc>({
  name: 'next-token-calibration',
  description:
    'Calibration of next-token predictions on held-out Moby-Dick and State of the Union passages (<= 70 ' +
    'words, the first sentence as context): per token, the probability of the model’s argmax against ' +
    'whether it was the next token, in 15 bins. ece and mce (0 = calibrated), top-label brier, and ' +
    'token_accuracy (share of tokens that were the argmax). Lower is better but for token_accuracy.',
  metrics: {
    ece: { aggregate: (items) => binned(items).ece, higherIsBetter: false, stderr: 'bootstrap' },
    mce: { aggregate: (items) => binned(items).mce, higherIsBetter: false, stderr: 'bootstrap' },
    brier: { aggregate: (items) => binned(items).brier, higherIsBetter: false, stderr: 'bootstrap' },
    token_accuracy: { aggregate: tokenAccuracy, higherIsBetter: true, stderr: 'bootstrap' },
  },
  docs: (limit) => (limit === undefined ? calibrationDocs() : calibrationDocs().slice(0, limit)),
  // the space goes with the continuation (lm-eval's target delimiter)
  requests: (doc) => [{ kind: 'loglikelihood', context: doc.context, continuation: ` ${doc.rest}` }],
  process: (doc, results) => {
    const r = results[0];
    if (results.length !== 1 || r?.kind !== 'loglikelihood')
      throw new Error(`next-token-calibration ${doc.id}: expected one loglikelihood result, got ${results.length}`);
    if (!r.confidence || !r.correct || r.confidence.length !== r.correct.length || r.correct.length !== r.tokens)
      throw new Error(
        `next-token-calibration ${doc.id}: the result lacks per-token confidence and correct arrays of its ` +
          `${r.tokens} tokens; answer it with src/eval/harness.ts`,
      );
    const item = { confidence: r.confidence, correct: r.correct };
    return { ece: item, mce: item, brier: item, token_accuracy: item };
  },
  texts: (doc) => [`${doc.context} ${doc.rest}`],
  config: CALIBRATION_CONFIG,
});
