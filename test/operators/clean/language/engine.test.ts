// The operator's two engines: 'franc' calls franc (counted through a spy on the module), 'fast' never
// does, and both give every row the same lang and lang_score, on English prose, manual pages in 25
// languages, short and script-only texts, and with only/ignore/allowed set.
import { describe, expect, it, vi } from 'vitest';
import { language } from '../../../../operators/clean/language.ts';
import { mobyDick, runOp, sotu, textBatch } from '../real-data.ts';
import { excerpts } from './excerpts.ts';

const calls = vi.hoisted(() => ({ n: 0 }));
vi.mock('franc', async (importOriginal) => {
  const franc = await importOriginal<typeof import('franc')>();
  return {
    ...franc,
    francAll: (...args: Parameters<typeof franc.francAll>) => {
      calls.n++;
      return franc.francAll(...args);
    },
  };
});

const texts = () => [
  ...sotu()
    .filter((_, i) => i % 40 === 0)
    .map((d) => d.text),
  ...mobyDick()
    .filter((_, i) => i % 60 === 0)
    .map((d) => d.text),
  ...Object.values(excerpts()).flatMap((l) => l.map((e) => e.text)),
  ...Object.values(excerpts()).map((l) => l[0]!.text.slice(0, 25)),
  'Γειά σου κόσμε',
  'ありがとう',
  'Hello world',
  '12345 67890 12345 67890',
];

describe('clean/language engines', () => {
  for (const config of [
    { mode: 'annotate' },
    { mode: 'annotate', only: ['en', 'de', 'fr', 'ja', 'ru'], ignore: [] },
    { allowed: ['de', 'pl', 'uk'], minConfidence: 0.9, codes: '639-3' },
  ])
    it(`'fast' labels and scores every row as 'franc' does, without calling franc: ${JSON.stringify(config)}`, async () => {
      const batch = textBatch(texts());
      calls.n = 0;
      const fast = await runOp(language, { ...config, engine: 'fast' }, [batch]);
      expect(calls.n).toBe(0);
      const ref = await runOp(language, { ...config, engine: 'franc' }, [batch]);
      expect(calls.n).toBeGreaterThan(100);
      expect(fast.rows).toEqual(ref.rows);
      expect(fast.stats.dropReasons).toEqual(ref.stats.dropReasons);
      expect(fast.stats.counters).toEqual(ref.stats.counters);
      // the rows span many languages (or all those the config admits)
      expect(new Set(fast.rows.map((r) => r.lang)).size).toBeGreaterThan(config.allowed ? 2 : config.only ? 4 : 10);
    });
});
