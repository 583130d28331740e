// ROUGE as Google's rouge-score package computes it (google-research rouge/rouge_scorer.py, scoring.py):
// rougeN from clipped n-gram counts, rougeL from the LCS of the whole token lists, rougeLsum from the
// summary-level union LCS over newline-separated sentences (ROUGE-1.5.5's double-count guard included).
// Empty or token-less inputs score 0, never NaN. Numbers match the Python to the last bit: the same
// integer counts go through the same divisions in the same order.

import { lcsLength, tokenIds, unionLcsIds } from './rouge-lcs.ts';
import { splitSentences } from './rouge-sentences.ts';
import { defaultRougeTokenizer, type RougeTokenizer } from './rouge-tokenize.ts';

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

/** 'rouge1'..'rouge9' (n-grams), 'rougeL' (LCS), 'rougeLsum' (summary-level LCS). */
export type RougeType = 'rouge1' | 'rouge2' | 'rougeL' | 'rougeLsum' | `rouge${number}`;

export interface RougeScorerOptions {
  /** Porter-stem tokens longer than 3 characters (rouge-score's use_stemmer). */
  useStemmer?: boolean;
  /** rougeLsum: split each text into sentences first instead of at newlines (split_summaries). */
  splitSummaries?: boolean;
  /** Replaces the default tokenizer (rouge-score's tokenizer argument); useStemmer is then ignored. */
  tokenizer?: RougeTokenizer;
  /** The sentence splitter splitSummaries uses; default splitSentences (rouge-score: nltk.sent_tokenize). */
  sentenceSplitter?: (text: string) => string[];
}

export interface RougeScorer<T extends string> {
  readonly rougeTypes: readonly T[];
  /** Scores of `prediction` against one `target`. */
  score(target: string, prediction: string): Record<T, RougeScore>;
  /** Per type, the score against the target with the highest f-measure (the first such target on ties). */
  scoreMulti(targets: readonly string[], prediction: string): Record<T, RougeScore>;
}

const ZERO: RougeScore = Object.freeze({ precision: 0, recall: 0, fmeasure: 0 });

/** scoring.fmeasure: the harmonic mean, 0 when both are 0. */
export function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function score(precision: number, recall: number): RougeScore {
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

// Python's re.match(r"rouge[0-9]$"): `$` also matches before one final newline.
const NGRAM_TYPE = /^rouge([0-9])\n?$/;

function ngramOrder(type: string): number | null {
  if (type === 'rougeL' || type === 'rougeLsum') return null;
  const m = NGRAM_TYPE.exec(type);
  if (m === null) {
    throw new Error(`rougeScorer: invalid rouge type ${JSON.stringify(type)}; use rouge1..rouge9, rougeL or rougeLsum`);
  }
  const n = Number(m[1]);
  if (n <= 0) throw new Error(`rougeScorer: ${JSON.stringify(type)} needs a positive n; use rouge1..rouge9`);
  return n;
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    // JSON of the slice: no two different n-grams share a key, whatever a custom tokenizer returns.
    const key = n === 1 ? (tokens[i] as string) : JSON.stringify(tokens.slice(i, i + n));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** rouge_scorer._score_ngrams over the n-grams of two token lists. */
export function scoreNgrams(target: readonly string[], prediction: readonly string[], n: number): RougeScore {
  const t = ngramCounts(target, n);
  const p = ngramCounts(prediction, n);
  let overlap = 0;
  for (const [gram, count] of t) overlap += Math.min(count, p.get(gram) ?? 0);
  const targetCount = Math.max(0, target.length - n + 1);
  const predictionCount = Math.max(0, prediction.length - n + 1);
  return score(overlap / Math.max(predictionCount, 1), overlap / Math.max(targetCount, 1));
}

/** rouge_scorer._score_lcs: LCS length over prediction length (P) and target length (R). */
export function scoreLcs(target: readonly string[], prediction: readonly string[]): RougeScore {
  if (target.length === 0 || prediction.length === 0) return { ...ZERO };
  const lcs = lcsLength(target, prediction);
  return score(lcs / prediction.length, lcs / target.length);
}

function countTokens<T>(sentences: readonly (readonly T[])[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const s of sentences) for (const t of s) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

/** rouge_scorer._summary_level_lcs (ROUGE paper section 3.2), each hit counted once per token occurrence. */
export function summaryLevelLcs<T>(
  refSents: readonly (readonly T[])[],
  canSents: readonly (readonly T[])[],
): RougeScore {
  if (refSents.length === 0 || canSents.length === 0) return { ...ZERO };
  const m = refSents.reduce((sum, s) => sum + s.length, 0);
  const n = canSents.reduce((sum, s) => sum + s.length, 0);
  if (m === 0 || n === 0) return { ...ZERO };
  const refCounts = countTokens(refSents);
  const canCounts = countTokens(canSents);
  // Ids once for all sentences, not once per reference sentence.
  const ids = new Map<T, number>();
  const refIds = tokenIds(refSents, ids);
  const canIds = tokenIds(canSents, ids);
  let hits = 0;
  for (const [k, r] of refSents.entries()) {
    for (const i of unionLcsIds(refIds[k] as Int32Array, canIds)) {
      const t = r[i] as T;
      const c = canCounts.get(t) ?? 0;
      const rc = refCounts.get(t) ?? 0;
      if (c > 0 && rc > 0) {
        hits++;
        canCounts.set(t, c - 1);
        refCounts.set(t, rc - 1);
      }
    }
  }
  return score(hits / n, hits / m);
}

/** A scorer for `types`, like rouge_scorer.RougeScorer(types, use_stemmer, split_summaries, tokenizer). */
export function rougeScorer<T extends RougeType>(types: readonly T[], opts: RougeScorerOptions = {}): RougeScorer<T> {
  const orders = new Map<T, number | null>(types.map((t) => [t, ngramOrder(t)]));
  const tokenize = opts.tokenizer ?? defaultRougeTokenizer(opts.useStemmer ?? false);
  const splitter = opts.sentenceSplitter ?? splitSentences;
  const sentencesOf = (text: string): string[] =>
    (opts.splitSummaries ? splitter(text) : text.split('\n')).filter((s) => s.length > 0);

  const scoreOne = (target: string, prediction: string): Record<T, RougeScore> => {
    // Whole-text tokens are needed by every type but rougeLsum.
    const needWhole = [...orders.keys()].some((t) => t !== 'rougeLsum');
    const targetTokens = needWhole ? tokenize(target) : [];
    const predictionTokens = needWhole ? tokenize(prediction) : [];
    const result = {} as Record<T, RougeScore>;
    for (const [type, n] of orders) {
      if (type === 'rougeL') result[type] = scoreLcs(targetTokens, predictionTokens);
      else if (type === 'rougeLsum') {
        result[type] = summaryLevelLcs(sentencesOf(target).map(tokenize), sentencesOf(prediction).map(tokenize));
      } else result[type] = scoreNgrams(targetTokens, predictionTokens, n as number);
    }
    return result;
  };

  return {
    rougeTypes: [...types],
    score: scoreOne,
    scoreMulti(targets, prediction) {
      if (targets.length === 0) throw new Error('rougeScorer.scoreMulti: no targets given; pass at least one target');
      const all = targets.map((t) => scoreOne(t, prediction));
      const best = {} as Record<T, RougeScore>;
      for (const type of orders.keys()) {
        let top = all[0] as Record<T, RougeScore>;
        for (const s of all) if (s[type].fmeasure > top[type].fmeasure) top = s;
        best[type] = top[type];
      }
      return best;
    },
  };
}

/** The mean precision, recall and f-measure of each type over per-example scores (no bootstrap). */
export function meanScores<T extends string>(scores: readonly Record<T, RougeScore>[]): Record<T, RougeScore> {
  if (scores.length === 0) throw new Error('meanScores: no scores given; pass at least one score record');
  const mean = {} as Record<T, RougeScore>;
  for (const type of Object.keys(scores[0] as object) as T[]) {
    let p = 0;
    let r = 0;
    let f = 0;
    for (const s of scores) {
      const x = s[type];
      if (x === undefined)
        throw new Error(`meanScores: a score record lacks type ${type}; give every record the same types`);
      p += x.precision;
      r += x.recall;
      f += x.fmeasure;
    }
    mean[type] = { precision: p / scores.length, recall: r / scores.length, fmeasure: f / scores.length };
  }
  return mean;
}
