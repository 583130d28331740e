// Gopher quality rules, one at a time, on a pool of real documents: each rule must drop exactly the
// documents an independent regex-based computation of its signal puts past the published threshold,
// and real examples must exist on both sides of it. Rules real text rarely triggers get small
// fixtures made of real sentences.
import { describe, expect, it } from 'vitest';
import { QUALITY_RULES, qualityAssessor } from '../../../operators/clean/quality.ts';
import { oracleLines, oracleWords, qualityPool } from './quality-pool.ts';
import { sotu } from './real-data.ts';

const only = (rule: string, extra: Record<string, unknown> = {}) =>
  qualityAssessor({ disable: QUALITY_RULES.filter((r) => r !== rule), ...extra });
const STOP = new Set(['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with']);
const count = (s: string, re: RegExp) => s.match(re)?.length ?? 0;

interface Case {
  rule: string;
  fails: (text: string) => boolean;
  minHits: number;
}
const cases: Case[] = [
  {
    rule: 'gopher.word_count',
    minHits: 20,
    fails: (t) => {
      const n = oracleWords(t).length;
      return n < 50 || n > 100_000;
    },
  },
  {
    rule: 'gopher.mean_word_length',
    minHits: 20,
    fails: (t) => {
      const w = oracleWords(t);
      const mean = w.length === 0 ? 0 : w.reduce((a, x) => a + x.length, 0) / w.length;
      return mean < 3 || mean > 10;
    },
  },
  {
    rule: 'gopher.symbol_ratio',
    minHits: 10,
    fails: (t) => {
      const n = oracleWords(t).length;
      return count(t, /#/g) > 0.1 * n || count(t, /\.\.\.|…/g) > 0.1 * n;
    },
  },
  {
    rule: 'gopher.ellipsis_lines',
    minHits: 0,
    fails: (t) => {
      const lines = oracleLines(t);
      return lines.filter((l) => /(\.\.\.|…)$/.test(l)).length > 0.3 * lines.length;
    },
  },
  {
    rule: 'gopher.alpha_words',
    minHits: 1,
    fails: (t) => {
      const w = oracleWords(t);
      return w.filter((x) => /\p{L}/u.test(x)).length < 0.8 * w.length;
    },
  },
  { rule: 'gopher.stop_words', minHits: 20, fails: (t) => oracleWords(t).filter((w) => STOP.has(w)).length < 2 },
];

describe('Gopher quality rules on real documents', () => {
  const pool = qualityPool();

  for (const c of cases) {
    it(`${c.rule}: drops exactly the documents past the threshold`, () => {
      const assess = only(c.rule);
      let hits = 0;
      for (const d of pool) {
        const expected = c.fails(d.text);
        if (expected) hits++;
        expect(assess(d.text).reason, d.src).toBe(expected ? c.rule : null);
      }
      expect(hits).toBeGreaterThanOrEqual(c.minHits);
      expect(pool.length - hits).toBeGreaterThan(pool.length / 2);
    });
  }

  it('real prose passes: every State of the Union address and Moby-Dick chapter passes all Gopher quality rules', () => {
    const assess = qualityAssessor({ disable: ['gopher.dup_*', 'gopher.top_*', 'c4.*'] });
    const prose = pool.filter((d) => d.src.startsWith('sotu/') || d.src.startsWith('moby/'));
    const failed = prose.filter((d) => assess(d.text).reason !== null).map((d) => `${d.src}: ${assess(d.text).reason}`);
    expect(failed).toEqual([]);
    expect(prose.length).toBeGreaterThan(300);
  });

  it('gopher.word_count: the upper bound of 100,000 words', () => {
    const all = sotu()
      .slice(0, 40)
      .map((d) => d.text)
      .join('\n\n');
    expect(oracleWords(all).length).toBeGreaterThan(100_000);
    expect(only('gopher.word_count')(all).reason).toBe('gopher.word_count');
    expect(only('gopher.word_count', { gopher: { maxWords: 10_000_000 } })(all).reason).toBeNull();
  });

  it('gopher.bullet_lines: a real address turned into a bullet list', () => {
    const sentences = sotu()[100]!
      .text.split(/(?<=\.)\s+/)
      .slice(0, 40);
    const bulleted = (k: number) => sentences.map((s, i) => (i < k ? `• ${s}` : s)).join('\n');
    expect(only('gopher.bullet_lines')(bulleted(40)).reason).toBe('gopher.bullet_lines');
    expect(only('gopher.bullet_lines')(bulleted(37)).reason).toBe('gopher.bullet_lines'); // 92.5%
    expect(only('gopher.bullet_lines')(bulleted(36)).reason).toBeNull(); // 90%: not more than 0.9
    expect(only('gopher.bullet_lines')(sentences.map((s) => `- ${s}`).join('\n')).reason).toBe('gopher.bullet_lines');
  });

  it('gopher.ellipsis_lines: real sentences cut short, as in link lists and teasers', () => {
    const sentences = sotu()[120]!
      .text.split(/(?<=\.)\s+/)
      .slice(0, 20);
    const cut = (k: number, mark = '...') =>
      sentences.map((s, i) => (i < k ? `${s.slice(0, 40)}${mark}` : s)).join('\n');
    expect(only('gopher.ellipsis_lines')(cut(7)).reason).toBe('gopher.ellipsis_lines'); // 35%
    expect(only('gopher.ellipsis_lines')(cut(7, '…')).reason).toBe('gopher.ellipsis_lines');
    expect(only('gopher.ellipsis_lines')(cut(6)).reason).toBeNull(); // 30%: not more than 0.3
  });

  it('thresholds are configurable and rules can be switched off', () => {
    const text = sotu()[5]!.text;
    const words = oracleWords(text).length;
    expect(only('gopher.word_count', { gopher: { minWords: words + 1 } })(text).reason).toBe('gopher.word_count');
    expect(only('gopher.word_count', { gopher: { minWords: words } })(text).reason).toBeNull();
    expect(qualityAssessor({ disable: ['gopher.*', 'c4.*'], gopher: { minWords: words + 1 } })(text).reason).toBeNull();
  });
});
