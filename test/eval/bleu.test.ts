// sacrebleu 2.x BLEU parity: every expectation of sacrebleu's own test suite (test_bleu.py,
// test_sentence_bleu.py), its README examples, and values computed by running sacrebleu 2.6.0's code
// (test/fixtures/eval/sacrebleu/README.md says which file each number comes from).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type BleuOptions,
  bleuSignature,
  computeBleu,
  corpusBleu,
  formatBleu,
  type SmoothMethod,
  sentenceBleu,
} from '../../operators/eval/metrics/bleu.ts';
import { tokenize13a, tokenizeChar, tokenizeIntl } from '../../operators/eval/metrics/tokenize-13a.ts';
import type { BleuTokenizerName } from '../../operators/eval/metrics/tokenize-13a.ts';
import { pyFixed } from '../../operators/eval/metrics/python-text.ts';
import type { SignatureContext } from '../../operators/eval/metrics/signature.ts';

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/eval/sacrebleu/${name}`, import.meta.url), 'utf8')) as T;

type Refs = (string | null)[][];
interface Stats {
  common: number[];
  total: number[];
}
interface PyBleuKwargs {
  smooth_method?: SmoothMethod;
  smooth_value?: number | null;
  tokenize?: BleuTokenizerName;
  lowercase?: boolean;
  effective_order?: boolean;
  max_ngram_order?: number;
}
interface Group<C> {
  tolerance?: number;
  cases: C[];
}
type Corpus = { hypotheses: string[]; references: Refs; expected: number };
const published = fixture<{
  raw_bleu: Group<Corpus>;
  corpus_bleu: Group<Corpus & { kwargs: PyBleuKwargs }>;
  effective_order: Group<Corpus>;
  statistics: Group<{ hypotheses: string[]; references: Refs; expected: Stats }>;
  scoring: Group<{ stats: Stats; sys_len: number; ref_len: number; expected: number }>;
  offset: Group<{
    hypotheses: string[];
    references: Refs;
    expected_with_offset: number;
    expected_without_offset: number;
  }>;
  degenerate_statistics: Group<{ stats: Stats; sys_len: number; ref_len: number; offset: number; expected: number }>;
  max_ngram_order: Group<{ order: number; hypotheses: string[]; references: Refs; expected: string }>;
}>('bleu.json');

/** sacrebleu's keyword arguments as our options. */
const opts = (kw: PyBleuKwargs): BleuOptions => ({
  smoothMethod: kw.smooth_method,
  smoothValue: kw.smooth_value,
  tokenize: kw.tokenize,
  lowercase: kw.lowercase,
  effectiveOrder: kw.effective_order,
  maxNgramOrder: kw.max_ngram_order,
});

/** sacrebleu.raw_corpus_bleu: floor smoothing, no tokenization, effective order. */
const rawCorpusBleu = (hyps: string[], refs: Refs, smoothValue: number | null = 0.1) =>
  corpusBleu(hyps, refs, { smoothMethod: 'floor', smoothValue, tokenize: 'none', effectiveOrder: true });

describe('sacrebleu test/test_bleu.py', () => {
  it.each(published.raw_bleu.cases)('test_raw_bleu %#', ({ hypotheses, references, expected }) => {
    expect(Math.abs(rawCorpusBleu(hypotheses, references, 0.01).score / 100 - expected)).toBeLessThan(1e-8);
  });
  it.each(published.corpus_bleu.cases)(
    'test_corpus_bleu %# $kwargs',
    ({ hypotheses, references, kwargs, expected }) => {
      expect(Math.abs(corpusBleu(hypotheses, references, opts(kwargs)).score - expected)).toBeLessThan(1e-8);
    },
  );
  it.each(published.effective_order.cases)('test_effective_order %#', ({ hypotheses, references, expected }) => {
    expect(Math.abs(rawCorpusBleu(hypotheses, references, 0.01).score / 100 - expected)).toBeLessThan(1e-8);
  });
  it.each(published.statistics.cases)('test_statistics %#', ({ hypotheses, references, expected }) => {
    const s = rawCorpusBleu(hypotheses, references, 0.01);
    expect({ common: s.counts, total: s.totals }).toEqual(expected);
  });
  it.each(published.scoring.cases)('test_scoring %#', ({ stats, sys_len, ref_len, expected }) => {
    expect(Math.abs(computeBleu(stats.common, stats.total, sys_len, ref_len).score / 100 - expected)).toBeLessThan(
      1e-8,
    );
  });
  it.each(published.offset.cases)('test_offset %#', (c) => {
    const without = rawCorpusBleu(c.hypotheses, c.references, 0.0).score / 100;
    expect(Math.abs(without - c.expected_without_offset)).toBeLessThan(1e-8);
    for (const sv of [null, undefined]) {
      const withOffset = rawCorpusBleu(c.hypotheses, c.references, sv).score / 100;
      expect(Math.abs(withOffset - c.expected_with_offset)).toBeLessThan(1e-8);
    }
  });
  it.each(published.degenerate_statistics.cases)('test_degenerate_statistics %#', (c) => {
    const s = computeBleu(c.stats.common, c.stats.total, c.sys_len, c.ref_len, {
      smoothMethod: 'floor',
      smoothValue: c.offset,
    });
    expect(s.score / 100).toBe(c.expected);
  });
  // sacrebleu compares f'{score:.2f}' strings here.
  it.each(published.max_ngram_order.cases)('test_max_ngram_order %#', ({ order, hypotheses, references, expected }) => {
    expect(pyFixed(corpusBleu(hypotheses, references, { maxNgramOrder: order }).score, 2)).toBe(expected);
  });
});

interface SentenceCase {
  smooth_method: SmoothMethod;
  smooth_value: number | null;
  lowercase: boolean;
  tokenize: BleuTokenizerName;
  expected: number;
}
const sent = fixture<{
  tolerance: number;
  hypothesis: string;
  reference: string;
  cases: SentenceCase[];
  zero_hypothesis: string;
  zero_reference: string;
  zero_cases: SentenceCase[];
}>('sentence-bleu.json');

// sacrebleu's test gives 3-5 digits and compares within its EPSILON = 1e-3; we do the same.
describe('sacrebleu test/test_sentence_bleu.py', () => {
  const run = (hyp: string, ref: string, c: SentenceCase) =>
    sentenceBleu(hyp, [ref], {
      smoothMethod: c.smooth_method,
      smoothValue: c.smooth_value,
      tokenize: c.tokenize,
      lowercase: c.lowercase,
    }).score;
  it.each(sent.cases)('test_api_sentence_bleu $smooth_method $smooth_value $tokenize lc=$lowercase', (c) => {
    expect(sent.tolerance).toBe(1e-3);
    expect(Math.abs(run(sent.hypothesis, sent.reference, c) - c.expected)).toBeLessThan(sent.tolerance);
  });
  it.each(sent.zero_cases)('test_api_sentence_bleu_zero $smooth_method $smooth_value', (c) => {
    expect(Math.abs(run(sent.zero_hypothesis, sent.zero_reference, c) - c.expected)).toBeLessThan(sent.tolerance);
  });
});

interface ReadmeExample {
  hypotheses: string[];
  references: Refs;
  bleu_text: string;
  bleu_signature: string;
}
const readme = fixture<{
  api_example: ReadmeExample;
  variable_refs: ReadmeExample;
  signatures: { cases: { metric: string; context: SignatureContext; expected: string }[] };
}>('readme.json');

describe('sacrebleu README.md', () => {
  it.each([readme.api_example, readme.variable_refs])('BLEU text line and signature %#', (ex) => {
    const s = corpusBleu(ex.hypotheses, ex.references, { version: '2.0.0' });
    expect(formatBleu(s)).toBe(ex.bleu_text);
    expect(s.signature).toBe(ex.bleu_signature);
  });
  it.each(readme.signatures.cases.filter((c) => c.metric === 'bleu'))('signature $expected', (c) => {
    expect(bleuSignature({ ...c.context, version: '2.0.0' })).toBe(c.expected);
  });
});

interface GeneratedBleu {
  kwargs: PyBleuKwargs;
  sentence: boolean;
  hypotheses: string[] | string;
  references: Refs | string[];
  score: number;
  counts: number[];
  totals: number[];
  precisions: number[];
  bp: number;
  sys_len: number;
  ref_len: number;
  signature: string;
  text: string;
}
const generated = fixture<{
  tokenize: { input: string; '13a': string; intl: string; char: string }[];
  bleu: GeneratedBleu[];
}>('generated.json');

describe('sacrebleu 2.6.0 run on our inputs (generated.json)', () => {
  it.each(generated.tokenize)('tokenizers on %j', (c) => {
    expect(tokenize13a(c.input)).toBe(c['13a']);
    expect(tokenizeIntl(c.input)).toBe(c.intl);
    expect(tokenizeChar(c.input)).toBe(c.char);
  });
  it.each(generated.bleu)('BLEU sentence=$sentence $kwargs', (c) => {
    const s = c.sentence
      ? sentenceBleu(c.hypotheses as string, c.references as string[], opts(c.kwargs))
      : corpusBleu(c.hypotheses as string[], c.references as Refs, opts(c.kwargs));
    expect(Math.abs(s.score - c.score)).toBeLessThan(1e-9);
    expect(s.counts).toEqual(c.counts);
    expect(s.totals).toEqual(c.totals);
    s.precisions.forEach((p, i) => expect(Math.abs(p - (c.precisions[i] ?? Number.NaN))).toBeLessThan(1e-9));
    expect(Math.abs(s.bp - c.bp)).toBeLessThan(1e-12);
    expect([s.sysLen, s.refLen]).toEqual([c.sys_len, c.ref_len]);
    expect(s.signature).toBe(c.signature);
    expect(formatBleu(s)).toBe(c.text);
  });
});

describe('inputs sacrebleu rejects', () => {
  it('says which stream is short', () => {
    expect(() => corpusBleu(['a', 'b'], [['a']])).toThrow(/reference stream 0 has 1 segments but there are 2/);
  });
  it('needs a hypothesis and a reference per segment', () => {
    expect(() => corpusBleu([], [[]])).toThrow(/no hypotheses/);
    expect(() => corpusBleu(['a'], [[null]])).toThrow(/segment 0 has no reference/);
  });
});
