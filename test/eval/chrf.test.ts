// sacrebleu 2.x chrF / chrF++ parity: every expectation of sacrebleu's test/test_chrf.py, the README's
// examples and signatures, and values computed by running sacrebleu 2.6.0's code
// (test/fixtures/eval/sacrebleu/README.md says which file each number comes from).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type ChrfOptions,
  chrfSignature,
  corpusChrf,
  formatChrf,
  sentenceChrf,
} from '../../operators/eval/metrics/chrf.ts';
import type { SignatureContext } from '../../operators/eval/metrics/signature.ts';

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/eval/sacrebleu/${name}`, import.meta.url), 'utf8')) as T;

type Refs = (string | null)[][];
interface Case {
  hypotheses: string[];
  references: string[];
  expected: number;
}
const published = fixture<{
  tolerance: number;
  eps_smoothing: { cases: Case[] };
  effective_order: { cases: Case[] };
  keep_whitespace: { cases: Case[] };
  sentence_level: { cases: { hypothesis: string; references: string[]; expected: number }[] };
}>('chrf.json');

// sacrebleu's test compares within EPSILON = 1e-4 (its expectations have 4-8 decimals); we do the same.
describe('sacrebleu test/test_chrf.py', () => {
  const tol = published.tolerance;
  const beta3 = { charOrder: 6, wordOrder: 0, beta: 3 };
  it('uses the tolerance sacrebleu uses', () => expect(tol).toBe(1e-4));
  it.each(published.eps_smoothing.cases)('test_chrf %#', ({ hypotheses, references, expected }) => {
    const s = corpusChrf(hypotheses, [references], { ...beta3, epsSmoothing: true });
    expect(Math.abs(s.score - expected)).toBeLessThan(tol);
  });
  it.each(published.effective_order.cases)('test_chrf_eff_order %#', ({ hypotheses, references, expected }) => {
    const s = corpusChrf(hypotheses, [references], { ...beta3, epsSmoothing: false });
    expect(Math.abs(s.score - expected)).toBeLessThan(tol);
  });
  it.each(published.keep_whitespace.cases)('test_chrf_keep_whitespace %#', ({ hypotheses, references, expected }) => {
    const s = corpusChrf(hypotheses, [references], { ...beta3, whitespace: true });
    expect(Math.abs(s.score - expected)).toBeLessThan(tol);
  });
  it.each(published.sentence_level.cases)('test_chrf_sentence_level %#', ({ hypothesis, references, expected }) => {
    expect(Math.abs(sentenceChrf(hypothesis, references, { epsSmoothing: true }).score - expected)).toBeLessThan(tol);
  });
});

const readme = fixture<{
  api_example: { hypotheses: string[]; references: Refs; chrf_text: string };
  signatures: {
    cases: { metric: string; options?: ChrfOptions; context: SignatureContext; expected: string; name?: string }[];
  };
}>('readme.json');

describe('sacrebleu README.md', () => {
  it('CHRF().corpus_score on the API example', () => {
    const ex = readme.api_example;
    expect(formatChrf(corpusChrf(ex.hypotheses, ex.references))).toBe(ex.chrf_text);
  });
  it.each(readme.signatures.cases.filter((c) => c.metric === 'chrf'))('signature $expected', (c) => {
    expect(chrfSignature({ ...c.options, ...c.context, version: '2.0.0' })).toBe(c.expected);
    expect(corpusChrf(['x'], [['y']], c.options).name).toBe(c.name);
  });
});

interface PyChrfKwargs {
  char_order?: number;
  word_order?: number;
  beta?: number;
  lowercase?: boolean;
  whitespace?: boolean;
  eps_smoothing?: boolean;
}
const generated = fixture<{
  chrf: {
    kwargs: PyChrfKwargs;
    sentence: boolean;
    hypotheses: string[] | string;
    references: Refs | string[];
    score: number;
    name: string;
    signature: string;
    text: string;
  }[];
}>('generated.json');

describe('sacrebleu 2.6.0 run on our inputs (generated.json)', () => {
  it.each(generated.chrf)('chrF sentence=$sentence $kwargs $hypotheses', (c) => {
    const o: ChrfOptions = {
      charOrder: c.kwargs.char_order,
      wordOrder: c.kwargs.word_order,
      beta: c.kwargs.beta,
      lowercase: c.kwargs.lowercase,
      whitespace: c.kwargs.whitespace,
      epsSmoothing: c.kwargs.eps_smoothing,
    };
    const s = c.sentence
      ? sentenceChrf(c.hypotheses as string, c.references as string[], o)
      : corpusChrf(c.hypotheses as string[], c.references as Refs, o);
    expect(Math.abs(s.score - c.score)).toBeLessThan(1e-9);
    expect(s.name).toBe(c.name);
    expect(s.signature).toBe(c.signature);
    expect(formatChrf(s)).toBe(c.text);
  });
});
