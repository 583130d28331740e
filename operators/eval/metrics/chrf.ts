// chrF (Popović 2015) and chrF++ (Popović 2017) exactly as sacrebleu 2.x (sacrebleu/metrics/chrf.py):
// character n-grams without whitespace, optional word n-grams after splitting punctuation off word edges,
// per segment the reference with the best F, statistics summed over the corpus, then either the average
// of per-order F scores with eps smoothing or (default) F of the averaged precision and recall over the
// orders that had n-grams on both sides (sacreBLEU < 2.0 "effective order").

import { allCharNgrams, type Counts, wordNgrams } from './ngrams.ts';
import { codePoints, pyFixed, pySplit } from './python-text.ts';
import { segmentRefs } from './segment-refs.ts';
import { countRefs, formatSignature, type SignatureContext } from './signature.ts';

export interface ChrfOptions {
  /** Character n-gram order; default 6. */
  charOrder?: number;
  /** Word n-gram order; default 0 (chrF), 2 is chrF++. */
  wordOrder?: number;
  /** Recall weight; default 2. */
  beta?: number;
  lowercase?: boolean;
  /** Keep whitespace inside character n-grams; default false. */
  whitespace?: boolean;
  /** chrF++.py / NLTK / Moses eps smoothing instead of effective order; default false. */
  epsSmoothing?: boolean;
  /** Printed in the signature; default SACREBLEU_VERSION. */
  version?: string;
}

export interface ChrfScore {
  /** `chrF2`, `chrF2++` (one + per word order), as sacrebleu names it. */
  name: string;
  /** 0..100. */
  score: number;
  charOrder: number;
  wordOrder: number;
  beta: number;
  /** sacrebleu's signature, e.g. `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0`. */
  signature: string;
}

// Python's string.punctuation, which chrF++ splits off the start or end of a word.
const PUNCTS = new Set(codePoints('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'));

/** Separate one punctuation character from the end, else the start, of each word; '(hi)' -> '(hi', ')' (#124). */
function splitPunctuation(sent: string): string[] {
  const out: string[] = [];
  for (const w of pySplit(sent)) {
    const cps = codePoints(w);
    const first = cps[0] as string;
    const last = cps.at(-1) as string;
    if (cps.length === 1) out.push(w);
    else if (PUNCTS.has(last)) out.push(cps.slice(0, -1).join(''), last);
    else if (PUNCTS.has(first)) out.push(first, cps.slice(1).join(''));
    else out.push(w);
  }
  return out;
}

interface Resolved {
  charOrder: number;
  wordOrder: number;
  beta: number;
  whitespace: boolean;
  epsSmoothing: boolean;
}

function ngramsOf(sent: string, o: Resolved): Counts[] {
  const all = allCharNgrams(sent, o.charOrder, o.whitespace);
  if (o.wordOrder > 0) {
    const words = splitPunctuation(sent);
    for (let n = 1; n <= o.wordOrder; n++) all.push(wordNgrams(words, n));
  }
  return all;
}

/** [hyp, ref, match] counts of one order; no hypothesis count when the reference has no n-gram of it. */
function matchStats(hyp: Counts, ref: Counts): [number, number, number] {
  let match = 0;
  let hypCount = 0;
  for (const [gram, c] of hyp) {
    hypCount += c;
    match += Math.min(c, ref.get(gram) ?? 0);
  }
  let refCount = 0;
  for (const c of ref.values()) refCount += c;
  return [ref.size > 0 ? hypCount : 0, refCount, match];
}

/** sacrebleu's CHRF._compute_f_score over flattened [hyp, ref, match] triples; 0..100. */
function fScore(stats: readonly number[], o: Resolved): number {
  const eps = 1e-16;
  const order = o.charOrder + o.wordOrder;
  const factor = o.beta ** 2;
  let score = 0;
  let effectiveOrder = 0;
  let avgPrec = 0;
  let avgRec = 0;
  for (let i = 0; i < order; i++) {
    const nHyp = stats[3 * i] ?? 0;
    const nRef = stats[3 * i + 1] ?? 0;
    const nMatch = stats[3 * i + 2] ?? 0;
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effectiveOrder += 1;
    }
  }
  if (o.epsSmoothing) return (100 * score) / order;
  if (effectiveOrder === 0) {
    avgPrec = 0;
    avgRec = 0;
  } else {
    avgPrec /= effectiveOrder;
    avgRec /= effectiveOrder;
  }
  if (avgPrec + avgRec === 0) return 0.0;
  return 100 * (((1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec));
}

/** sacrebleu's CHRF.corpus_score; references[k][i] is the k-th reference of segment i (null: absent). */
export function corpusChrf(
  hypotheses: readonly string[],
  references: ReadonlyArray<ReadonlyArray<string | null>>,
  opts: ChrfOptions = {},
): ChrfScore {
  const o: Resolved = {
    charOrder: opts.charOrder ?? 6,
    wordOrder: opts.wordOrder ?? 0,
    beta: opts.beta ?? 2,
    whitespace: opts.whitespace ?? false,
    epsSmoothing: opts.epsSmoothing ?? false,
  };
  const prep = (s: string): string => (opts.lowercase ? s.toLowerCase() : s);
  const segRefs = segmentRefs('corpusChrf', hypotheses, references);
  const totals: number[] = new Array<number>(3 * (o.charOrder + o.wordOrder)).fill(0);

  hypotheses.forEach((hyp, i) => {
    const hypNgrams = ngramsOf(prep(hyp), o);
    // The reference with the best F score wins; the first on ties.
    let best: number[] = [];
    let bestF = -1.0;
    for (const ref of segRefs[i] as string[]) {
      const refNgrams = ngramsOf(prep(ref), o);
      const stats = hypNgrams.flatMap((h, n) => matchStats(h, refNgrams[n] as Counts));
      const f = fScore(stats, o);
      if (f > bestF) {
        bestF = f;
        best = stats;
      }
    }
    best.forEach((v, j) => {
      totals[j] = (totals[j] ?? 0) + v;
    });
  });

  const nrefs = countRefs(segRefs.map((r) => r.length));
  return {
    name: `chrF${o.beta}${'+'.repeat(o.wordOrder)}`,
    score: fScore(totals, o),
    charOrder: o.charOrder,
    wordOrder: o.wordOrder,
    beta: o.beta,
    signature: chrfSignature({ ...opts, nrefs }),
  };
}

/** sacrebleu's sentence_chrf: one segment against its references. */
export function sentenceChrf(hypothesis: string, references: readonly string[], opts: ChrfOptions = {}): ChrfScore {
  return corpusChrf(
    [hypothesis],
    references.map((r) => [r]),
    opts,
  );
}

/** sacrebleu 2.x's chrF signature, e.g. `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0`. */
export function chrfSignature(opts: ChrfOptions & SignatureContext = {}): string {
  return formatSignature(opts, [
    ['case', 'c', opts.lowercase ? 'lc' : 'mixed'],
    ['eff', 'e', opts.epsSmoothing ? 'no' : 'yes'],
    ['nc', 'nc', opts.charOrder ?? 6],
    ['nw', 'nw', opts.wordOrder ?? 0],
    ['space', 's', opts.whitespace ? 'yes' : 'no'],
  ]);
}

/** sacrebleu's text line for a chrF score: `chrF2[|signature] = 59.73`. */
export function formatChrf(score: ChrfScore, opts: { width?: number; signature?: string } = {}): string {
  const head = opts.signature ? `${score.name}|${opts.signature}` : score.name;
  return `${head} = ${pyFixed(score.score, opts.width ?? 2)}`;
}
