// rouge-score's own published test cases (test/fixtures/eval/rouge/published-cases.json, README.md there
// says where each came from), to the precision each Python test asserts, plus the tokenizer on
// unicode and empty text against tokenize.json (written by make-stems.py with NLTK).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PorterStemmer } from '../../operators/eval/metrics/porter-stemmer.ts';
import { findUnion, lcsIndices, lcsTable, unionLcs } from '../../operators/eval/metrics/rouge-lcs.ts';
import { defaultRougeTokenizer, rougeTokenize } from '../../operators/eval/metrics/rouge-tokenize.ts';
import {
  meanScores,
  type RougeScore,
  type RougeType,
  rougeScorer,
  summaryLevelLcs,
} from '../../operators/eval/metrics/rouge.ts';

const fixtureDir = join(import.meta.dirname, '..', 'fixtures', 'eval', 'rouge');
const readFixture = (name: string) => readFileSync(join(fixtureDir, name), 'utf8');

interface ScoreCase {
  test: string;
  types: RougeType[];
  useStemmer?: boolean;
  splitSummaries?: boolean;
  target?: string;
  targets?: string[];
  prediction?: string;
  targetFile?: string;
  predictionFile?: string;
  line?: number;
  places?: number;
  exact?: boolean;
  expected: Record<string, Partial<RougeScore>>;
}
const published = JSON.parse(readFixture('published-cases.json')) as {
  score: ScoreCase[];
  invalidTypes: string[];
  tokenize: { test: string; text: string; useStemmer: boolean; tokens: string[] }[];
  aggregateMid: { delta: number; scores: RougeScore[]; mid: RougeScore };
};
const tokenizeCases = JSON.parse(readFixture('tokenize.json')) as {
  cases: { text: string; plain: string[]; stemmed: string[] }[];
};

// Python's f.readlines(): lines keep their '\n'.
const readLines = (name: string) => readFixture(name).split(/(?<=\n)/);

function textsOf(c: ScoreCase): { targets: string[]; prediction: string } {
  if (c.targetFile !== undefined && c.predictionFile !== undefined) {
    if (c.line === undefined)
      return { targets: [readFixture(c.targetFile)], prediction: readFixture(c.predictionFile) };
    return {
      targets: [readLines(c.targetFile)[c.line] as string],
      prediction: readLines(c.predictionFile)[c.line] as string,
    };
  }
  return { targets: c.targets ?? [c.target as string], prediction: c.prediction as string };
}

/** unittest's assertAlmostEqual(expected, actual, places): round(actual - expected, places) == 0. */
function expectAlmost(actual: number, expected: number, places: number, what: string): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(0.5 * 10 ** -places);
}

describe('rougeScorer: rouge-score published cases', () => {
  for (const c of published.score) {
    it(c.test, () => {
      const scorer = rougeScorer(c.types, { useStemmer: c.useStemmer, splitSummaries: c.splitSummaries });
      const { targets, prediction } = textsOf(c);
      const result = c.targets
        ? scorer.scoreMulti(targets, prediction)
        : scorer.score(targets[0] as string, prediction);
      expect(Object.keys(result).sort()).toEqual([...c.types].sort());
      for (const [type, fields] of Object.entries(c.expected)) {
        for (const [field, value] of Object.entries(fields) as [keyof RougeScore, number][]) {
          const actual = (result as Record<string, RougeScore>)[type]?.[field] as number;
          if (c.exact) expect(actual).toBe(value);
          else expectAlmost(actual, value, c.places ?? 7, `${type}.${field}`);
        }
      }
    });
  }

  for (const type of published.invalidTypes) {
    it(`testInvalidRougeTypes[${type}] throws`, () => {
      expect(() => rougeScorer([type as RougeType]).score('testing one two', 'testing')).toThrow(/rouge/);
    });
  }
});

describe('LCS helpers: rouge-score published cases', () => {
  it('testLcsTable', () => {
    const ref = [1, 2, 3, 4, 5];
    const c1 = [2, 5, 3, 4];
    expect(lcsTable(ref, c1)[ref.length]?.[c1.length]).toBe(3);
    expect(lcsIndices(ref, c1)).toEqual([1, 2, 3]);
    expect(lcsIndices(ref, c1).map((i) => ref[i])).toEqual([2, 3, 4]);
    const c2 = [8, 9];
    expect(lcsTable(ref, c2)[ref.length]?.[c2.length]).toBe(0);
    expect(lcsIndices(ref, c2)).toEqual([]);
  });

  it('testUnionLcs', () => {
    expect(
      findUnion([
        [0, 1],
        [0, 2, 4],
      ]),
    ).toEqual([0, 1, 2, 4]);
    expect(
      findUnion([
        [0, 2, 4],
        [0, 1],
      ]),
    ).toEqual([0, 1, 2, 4]);
    const ref = [1, 2, 3, 4, 5];
    expect(
      unionLcs(ref, [
        [1, 2, 6, 7, 8],
        [1, 3, 8, 9, 5],
      ]),
    ).toEqual([1, 2, 3, 5]);
  });

  it('testSummaryLevelLcs', () => {
    const score = summaryLevelLcs(
      [[1, 2, 3, 4, 5]],
      [
        [1, 2, 6, 7, 8],
        [1, 3, 8, 9, 5],
      ],
    );
    expect(score.recall).toBe(0.8);
    expect(score.precision).toBe(0.4);
    expectAlmost(score.fmeasure, 0.5333, 3, 'fmeasure');
    // The tokenizer may drop every token of a candidate sentence.
    expect(summaryLevelLcs([['reference']], [[]]).recall).toBe(0);
  });
});

describe('rouge tokenizer', () => {
  for (const c of published.tokenize) {
    it(`${c.test}: ${JSON.stringify(c.text)}`, () => {
      expect(defaultRougeTokenizer(c.useStemmer)(c.text)).toEqual(c.tokens);
    });
  }

  it('tokenizes unicode, punctuation and empty text as rouge/tokenize.py does (tokenize.json)', () => {
    const stemmer = new PorterStemmer();
    expect(tokenizeCases.cases.length).toBeGreaterThan(10);
    for (const c of tokenizeCases.cases) {
      expect(rougeTokenize(c.text), JSON.stringify(c.text)).toEqual(c.plain);
      expect(rougeTokenize(c.text, stemmer), JSON.stringify(c.text)).toEqual(c.stemmed);
    }
  });
});

describe('meanScores', () => {
  it("equals the bootstrap aggregator's mid of scoring_test.testConsistentPercentiles", () => {
    const { scores, mid, delta } = published.aggregateMid;
    const mean = meanScores(scores.map((s) => ({ rouge1: s })));
    for (const field of ['precision', 'recall', 'fmeasure'] as const) {
      expect(Math.abs(mean.rouge1[field] - mid[field])).toBeLessThanOrEqual(delta);
    }
  });

  it('refuses an empty list, saying what to pass', () => {
    expect(() => meanScores([])).toThrow(/at least one/);
  });
});
