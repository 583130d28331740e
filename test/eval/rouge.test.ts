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

// rouge-score's large testdata (README.md there: google-research rouge/testdata, byte for byte), 1000 lines
// each; the Python tests read the whole files (f.read()) or their lines (f.readlines()).
describe('rouge-score published cases on target_large.txt / prediction_large.txt', () => {
  const target = readFixture('target_large.txt');
  const prediction = readFixture('prediction_large.txt');
  const pairs = () => {
    const targets = readLines('target_large.txt');
    const predictions = readLines('prediction_large.txt');
    return targets.map((t, i) => [t, predictions[i] as string] as const);
  };

  it('the fixtures are the stored files: lengths and line counts as published', () => {
    expect([target.length, prediction.length]).toEqual([142172, 89485]);
    expect([readLines('target_large.txt').length, readLines('prediction_large.txt').length]).toEqual([1000, 1000]);
  });

  // rouge_scorer_test.testRougeLsumLarge: assertAlmostEqual(0.533, fmeasure, places=3). The summary-level
  // LCS over 1000 x 1000 sentences is slow (tens of seconds here, as in Python).
  it('testRougeLsumLarge', () => {
    const result = rougeScorer(['rougeLsum']).score(target, prediction);
    expectAlmost(result.rougeLsum.fmeasure, 0.533, 3, 'rougeLsum.fmeasure');
  }, 240_000);

  // scoring_test.testMultipleRougeTypes: aggregating the first five line pairs keeps exactly the scored types.
  it('testMultipleRougeTypes', () => {
    const scorer = rougeScorer(['rouge1', 'rougeL']);
    const mean = meanScores(
      pairs()
        .slice(0, 5)
        .map(([t, p]) => scorer.score(t, p)),
    );
    expect(Object.keys(mean).sort()).toEqual(['rouge1', 'rougeL']);
  });

  // scoring_test.testConfidenceIntervalsAgainstRouge155[WithStemming]: line-by-line scores, aggregated; the
  // Python test asserts the bootstrap (low, mid, high) against ROUGE-1.5.5 with delta 0.002. Only the mid is
  // checked here, against the plain mean: low/high need the bootstrap resampling.
  const rouge155Mid: { stem: boolean; type: 'rouge1' | 'rougeL'; mid: RougeScore }[] = [
    { stem: false, type: 'rouge1', mid: { precision: 0.49879, recall: 0.3195, fmeasure: 0.38554 } },
    { stem: true, type: 'rouge1', mid: { precision: 0.52434, recall: 0.3358, fmeasure: 0.40524 } },
    { stem: true, type: 'rougeL', mid: { precision: 0.52104, recall: 0.33377, fmeasure: 0.40275 } },
  ];
  for (const stem of [false, true]) {
    const name = `testConfidenceIntervalsAgainstRouge155${stem ? 'WithStemming' : ''}: mean = ROUGE-1.5.5 mid ± 0.002`;
    it(name, () => {
      const cases = rouge155Mid.filter((c) => c.stem === stem);
      const scorer = rougeScorer(
        cases.map((c) => c.type),
        { useStemmer: stem },
      );
      const mean = meanScores(pairs().map(([t, p]) => scorer.score(t, p)));
      for (const { type, mid } of cases) {
        for (const field of ['precision', 'recall', 'fmeasure'] as const) {
          expect(Math.abs(mean[type][field] - mid[field]), `${type}.${field}`).toBeLessThanOrEqual(0.002);
        }
      }
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

  // unionLcs runs on integer ids in one reused buffer, skipping candidates with no shared token; the union
  // of lcsIndices (one fresh table per pair, rouge_scorer's _union_lcs step by step) must come out the same.
  it('unionLcs equals the union of per-candidate lcsIndices on random sentences', () => {
    let seed = 12345;
    const next = (k: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % k;
    };
    const sentence = (vocab: number) => Array.from({ length: next(12) }, () => `w${next(vocab)}`);
    for (let trial = 0; trial < 300; trial++) {
      const vocab = 2 + next(10);
      const ref = sentence(vocab);
      const candidates = Array.from({ length: 1 + next(5) }, () => sentence(vocab + 3));
      const expected = findUnion(candidates.map((c) => lcsIndices(ref, c))).map((i) => ref[i]);
      expect(unionLcs(ref, candidates), JSON.stringify({ ref, candidates })).toEqual(expected);
    }
    // === semantics: NaN never matches, even itself.
    expect(unionLcs([Number.NaN, 1], [[Number.NaN, 1]])).toEqual([1]);
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
