// Corpus and sentence BLEU exactly as sacrebleu 2.x (sacrebleu/metrics/bleu.py): lowercase, rstrip and
// tokenize every segment, clip hypothesis n-gram counts by the max count over the segment's references,
// take the closest reference length (the shorter on ties), sum over the corpus, then computeBleu.

import { type BleuResult, computeBleu, MAX_NGRAM_ORDER, SMOOTH_DEFAULTS, type SmoothMethod } from './bleu-compute.ts';
import { allWordNgrams, type Counts } from './ngrams.ts';
import { pyFixed, pyRstrip } from './python-text.ts';
import { countRefs, formatSignature, type SignatureContext } from './signature.ts';
import { segmentRefs } from './segment-refs.ts';
import { type BleuTokenizerName, bleuTokenizer } from './tokenize-13a.ts';

export { computeBleu, MAX_NGRAM_ORDER, SMOOTH_DEFAULTS, type BleuResult, type SmoothMethod };
export { SACREBLEU_VERSION, type SignatureContext } from './signature.ts';

export interface BleuOptions {
  /** Default 'exp'. */
  smoothMethod?: SmoothMethod;
  /** For 'floor' (default 0.1) and 'add-k' (default 1). */
  smoothValue?: number | null;
  /** Default '13a'. */
  tokenize?: BleuTokenizerName;
  lowercase?: boolean;
  /** Default false for corpusBleu, true for sentenceBleu (as sacrebleu's corpus_bleu / sentence_bleu). */
  effectiveOrder?: boolean;
  /** Default 4. */
  maxNgramOrder?: number;
  /** Printed in the signature; default SACREBLEU_VERSION. */
  version?: string;
}

export interface BleuScore extends BleuResult {
  /** sacrebleu's signature of the run, e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`. */
  signature: string;
}

/** References of one segment, as n-gram counts (max over references) and token lengths. */
interface RefInfo {
  ngrams: Counts[];
  lengths: number[];
}

function refInfo(refs: readonly string[], maxOrder: number): RefInfo {
  const ngrams: Counts[] = Array.from({ length: maxOrder }, () => new Map());
  const lengths: number[] = [];
  for (const ref of refs) {
    const extracted = allWordNgrams(ref, maxOrder);
    lengths.push(extracted.length);
    extracted.ngrams.forEach((counts, i) => {
      const merged = ngrams[i] as Counts;
      for (const [gram, c] of counts) merged.set(gram, Math.max(merged.get(gram) ?? 0, c));
    });
  }
  return { ngrams, lengths };
}

/** The reference length closest to the hypothesis length; the shorter one on ties. */
function closestRefLen(hypLen: number, refLens: readonly number[]): number {
  let closestDiff = -1;
  let closestLen = -1;
  for (const refLen of refLens) {
    const diff = Math.abs(hypLen - refLen);
    if (closestDiff === -1 || diff < closestDiff) {
      closestDiff = diff;
      closestLen = refLen;
    } else if (diff === closestDiff && refLen < closestLen) {
      closestLen = refLen;
    }
  }
  return closestLen;
}

/** sacrebleu's BLEU.corpus_score; references[k][i] is the k-th reference of segment i (null: absent). */
export function corpusBleu(
  hypotheses: readonly string[],
  references: ReadonlyArray<ReadonlyArray<string | null>>,
  opts: BleuOptions = {},
): BleuScore {
  const maxOrder = opts.maxNgramOrder ?? MAX_NGRAM_ORDER;
  const tokenizer = bleuTokenizer(opts.tokenize ?? '13a');
  const preprocess = (s: string): string => tokenizer(pyRstrip(opts.lowercase ? s.toLowerCase() : s));
  const segRefs = segmentRefs('corpusBleu', hypotheses, references);

  let sysLen = 0;
  let refLen = 0;
  const correct: number[] = new Array<number>(maxOrder).fill(0);
  const total: number[] = new Array<number>(maxOrder).fill(0);
  hypotheses.forEach((hyp, i) => {
    const ref = refInfo((segRefs[i] as string[]).map(preprocess), maxOrder);
    const { ngrams, length } = allWordNgrams(preprocess(hyp), maxOrder);
    sysLen += length;
    refLen += closestRefLen(length, ref.lengths);
    ngrams.forEach((counts, n) => {
      const refCounts = ref.ngrams[n] as Counts;
      for (const [gram, c] of counts) {
        total[n] = (total[n] ?? 0) + c;
        correct[n] = (correct[n] ?? 0) + Math.min(c, refCounts.get(gram) ?? 0);
      }
    });
  });

  const effectiveOrder = opts.effectiveOrder ?? false;
  const result = computeBleu(correct, total, sysLen, refLen, {
    smoothMethod: opts.smoothMethod ?? 'exp',
    smoothValue: opts.smoothValue ?? null,
    effectiveOrder,
    maxNgramOrder: maxOrder,
  });
  const nrefs = countRefs(segRefs.map((r) => r.length));
  return { ...result, signature: bleuSignature({ ...opts, effectiveOrder, nrefs }) };
}

/** sacrebleu's sentence_bleu: one segment against its references, effective order on by default. */
export function sentenceBleu(hypothesis: string, references: readonly string[], opts: BleuOptions = {}): BleuScore {
  return corpusBleu(
    [hypothesis],
    references.map((r) => [r]),
    { ...opts, effectiveOrder: opts.effectiveOrder ?? true },
  );
}

/** sacrebleu 2.x's BLEU signature, e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`. */
export function bleuSignature(opts: BleuOptions & SignatureContext = {}): string {
  const method = opts.smoothMethod ?? 'exp';
  const smoothDefault = SMOOTH_DEFAULTS[method];
  // Methods that take a value print it: `floor[0.10]`, `add-k[1.00]`.
  const smooth = smoothDefault === null ? method : `${method}[${pyFixed(opts.smoothValue ?? smoothDefault, 2)}]`;
  return formatSignature(opts, [
    ['case', 'c', opts.lowercase ? 'lc' : 'mixed'],
    ['eff', 'e', opts.effectiveOrder ? 'yes' : 'no'],
    ['tok', 'tok', opts.tokenize ?? '13a'],
    ['smooth', 's', smooth],
  ]);
}

/** sacrebleu's text line for a BLEU score: `BLEU[|signature] = 48.53 82.4/50.0/45.5/37.5 (BP = ... ref_len = 18)`. */
export function formatBleu(score: BleuResult, opts: { width?: number; signature?: string } = {}): string {
  const head = opts.signature ? `BLEU|${opts.signature}` : 'BLEU';
  const precs = score.precisions.map((p) => pyFixed(p, 1)).join('/');
  return (
    `${head} = ${pyFixed(score.score, opts.width ?? 2)} ${precs} (BP = ${pyFixed(score.bp, 3)} ` +
    `ratio = ${pyFixed(score.ratio, 3)} hyp_len = ${score.sysLen} ref_len = ${score.refLen})`
  );
}
