// Continuation of held-out passages (issue 13): the model continues a passage of a held-out Moby-Dick
// chapter or State of the Union address greedily, and its continuation is scored against the true text
// that follows, with the metrics lm-evaluation-harness reports for generation tasks: corpus BLEU and
// chrF as sacrebleu computes them (defaults: 13a tokenizer, exp smoothing; chrF2, 6 character orders)
// and ROUGE-1/2/L/Lsum f-measures as rouge-score computes them, averaged over the documents.
// A passage: whole sentences of one paragraph, 40-60 words (the context), then the next 20-30 words of
// the same paragraph (the reference): up to the sentence end that falls in 20-30 words, else the first
// 25 words. The continuation is scored as generated (up to 32 tokens, cut at a blank line), not cut to
// the reference's length: a longer continuation lowers BLEU's and ROUGE's precision, a shorter one
// their recall and BLEU's brevity penalty.
import { corpusBleu } from '../metrics/bleu.ts';
import { corpusChrf } from '../metrics/chrf.ts';
import { type RougeScorer, rougeScorer } from '../metrics/rouge.ts';
import { defineTask, type EvalResult, type MetricItem, type MetricSpec } from '../../../src/eval/task.ts';
import { heldoutPassages } from './heldout.ts';
import { sentences } from './lambada-moby-sotu.ts';

export interface ContinuationDoc {
  /** `<held-out doc id>#<paragraph>.<first sentence>` */
  id: string;
  source: string;
  /** the passage's first 40-60 words, whole sentences */
  context: string;
  /** the 20-30 words that follow it in the same paragraph */
  reference: string;
}

/** The settings that change the documents or the generations. */
export const CONTINUATION_CONFIG = {
  minContextWords: 40,
  maxContextWords: 60,
  minReferenceWords: 20,
  maxReferenceWords: 30,
  /** the reference's length when no sentence ends within 20-30 words */
  referenceWords: 25,
  maxDocs: 100,
  until: ['\n\n'],
  maxTokens: 32,
  split: 'heldout.ts: Moby-Dick chapters and SOTU years that are multiples of 20',
} as const;

const words = (s: string): string[] => s.split(' ').filter((w) => w.length > 0);

/** The passages of one paragraph, in order and not overlapping. */
export function continuationPassages(idPrefix: string, paragraph: string): Omit<ContinuationDoc, 'source'>[] {
  const c = CONTINUATION_CONFIG;
  const sents = sentences(paragraph).map(words);
  const out: Omit<ContinuationDoc, 'source'>[] = [];
  let start = 0;
  while (start < sents.length) {
    // the context: the fewest whole sentences from `start` with >= minContextWords words
    let end = start;
    const ctx: string[] = [];
    while (end < sents.length && ctx.length < c.minContextWords) ctx.push(...sents[end++]!);
    if (ctx.length < c.minContextWords) break;
    if (ctx.length > c.maxContextWords) {
      start++;
      continue;
    }
    // the reference: up to a sentence end within min..maxReferenceWords, else referenceWords words
    const rest: string[] = [];
    let cutAt = -1;
    let next = end;
    while (next < sents.length && rest.length < c.maxReferenceWords) {
      rest.push(...sents[next++]!);
      if (rest.length >= c.minReferenceWords && rest.length <= c.maxReferenceWords) cutAt = rest.length;
    }
    if (rest.length < c.minReferenceWords) break;
    // cut mid-sentence: the next passage starts after that sentence
    const reference = cutAt > 0 ? rest.slice(0, cutAt) : rest.slice(0, c.referenceWords);
    out.push({ id: `${idPrefix}.${start}`, context: ctx.join(' '), reference: reference.join(' ') });
    start = next;
  }
  return out;
}

let all: readonly ContinuationDoc[] | undefined;

/** The passages of every held-out document in a fixed pseudo-random order (a hash of the id), so any
 * prefix mixes both sources; the first maxDocs. */
export function continuationDocs(): readonly ContinuationDoc[] {
  all ??= Object.freeze(heldoutPassages('heldout-continuation', continuationPassages, CONTINUATION_CONFIG.maxDocs));
  return all;
}

// ---- scoring generations against references (shared with JSON generation tasks: json-task.ts) ----

export const ROUGE_TYPES = ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'] as const;
export type GenerationMetric = 'bleu' | 'chrf' | (typeof ROUGE_TYPES)[number];

const pairs = (items: readonly MetricItem[], metric: string): [string[], string[]] => {
  const hyps: string[] = [];
  const refs: string[] = [];
  items.forEach((it, i) => {
    if (!Array.isArray(it) || it.length !== 2 || typeof it[0] !== 'string' || typeof it[1] !== 'string')
      throw new Error(`${metric}: item ${i} is ${JSON.stringify(it)}, not a [hypothesis, reference] pair of strings`);
    hyps.push(it[0]);
    refs.push(it[1]);
  });
  return [hyps, refs];
};

/** sacrebleu's corpus_bleu(hypotheses, [references]).score over [hypothesis, reference] items (0..100). */
export const bleuAggregate = (items: readonly MetricItem[]): number => {
  const [hyps, refs] = pairs(items, 'bleu');
  return corpusBleu(hyps, [refs]).score;
};

/** sacrebleu's corpus_chrf(hypotheses, [references]).score over [hypothesis, reference] items (0..100). */
export const chrfAggregate = (items: readonly MetricItem[]): number => {
  const [hyps, refs] = pairs(items, 'chrf');
  return corpusChrf(hyps, [refs]).score;
};

/** The metrics of a generation scored against one reference (no chance level: open vocabulary). */
export function generationMetrics(): Record<GenerationMetric, MetricSpec> {
  return {
    bleu: { aggregate: bleuAggregate, higherIsBetter: true, stderr: 'bootstrap' },
    chrf: { aggregate: chrfAggregate, higherIsBetter: true, stderr: 'bootstrap' },
    rouge1: { aggregate: 'mean', higherIsBetter: true },
    rouge2: { aggregate: 'mean', higherIsBetter: true },
    rougeL: { aggregate: 'mean', higherIsBetter: true },
    rougeLsum: { aggregate: 'mean', higherIsBetter: true },
  };
}

/** A ROUGE scorer of every type generationMetrics reports. */
export const generationRouge = (useStemmer = false): RougeScorer<(typeof ROUGE_TYPES)[number]> =>
  rougeScorer(ROUGE_TYPES, { useStemmer });

/** One document's items: the pair for corpus BLEU and chrF, each ROUGE type's f-measure. */
export function scoreGeneration(
  scorer: RougeScorer<(typeof ROUGE_TYPES)[number]>,
  hypothesis: string,
  reference: string,
): Record<GenerationMetric, MetricItem> {
  const r = scorer.score(reference, hypothesis);
  return {
    bleu: [hypothesis, reference],
    chrf: [hypothesis, reference],
    rouge1: r.rouge1.fmeasure,
    rouge2: r.rouge2.fmeasure,
    rougeL: r.rougeL.fmeasure,
    rougeLsum: r.rougeLsum.fmeasure,
  };
}

/** The generated text of a document's one generate_until result. */
export function generatedText(where: string, results: readonly EvalResult[]): string {
  const r = results[0];
  if (results.length !== 1 || r?.kind !== 'generate_until')
    throw new Error(
      `${where}: expected one generate_until result, got ${results.map((x) => x.kind).join(', ') || 'none'}`,
    );
  return r.text;
}

const rouge = generationRouge(false);

export default defineTask<ContinuationDoc>({
  name: 'heldout-continuation',
  description:
    'Greedy continuation of held-out Moby-Dick and State of the Union passages (40-60 words of context, up ' +
    'to 32 tokens generated, cut at a blank line) scored against the true next 20-30 words: corpus BLEU ' +
    'and chrF (sacrebleu defaults, 0-100) and mean ROUGE-1/2/L/Lsum f-measure (rouge-score, no stemming). ' +
    'The continuation is scored as generated, not cut to the reference length. No chance level.',
  metrics: generationMetrics(),
  docs: (limit) => (limit === undefined ? continuationDocs() : continuationDocs().slice(0, limit)),
  requests: (doc) => [
    {
      kind: 'generate_until',
      context: doc.context,
      until: CONTINUATION_CONFIG.until,
      maxTokens: CONTINUATION_CONFIG.maxTokens,
    },
  ],
  process: (doc, results) =>
    scoreGeneration(rouge, generatedText(`heldout-continuation ${doc.id}`, results), doc.reference),
  // the passage with its answer
  texts: (doc) => [`${doc.context} ${doc.reference}`],
  config: CONTINUATION_CONFIG,
});
