// The quality operator as a whole: drop and annotate modes agree, drop reasons are counted per rule,
// signal columns are typed Float32, and configuration errors name the rule.
import { Float32 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { quality } from '../../../operators/clean/quality.ts';
import { qualityPool } from './quality-pool.ts';
import { runOp, sotu, textBatch } from './real-data.ts';

describe('clean/quality operator', () => {
  const docs = qualityPool().filter((_, i) => i % 4 === 0);
  const batches = [
    textBatch(
      docs.slice(0, 200).map((d) => d.text),
      docs.slice(0, 200).map((d) => d.src),
    ),
    textBatch(
      docs.slice(200).map((d) => d.text),
      docs.slice(200).map((d) => d.src),
    ),
  ];

  it('annotate keeps every row with typed signals; drop removes exactly the rows annotate flags, counted by reason', async () => {
    const annotated = await runOp(quality, { mode: 'annotate' }, batches);
    expect(annotated.rows).toHaveLength(docs.length);
    const schema = annotated.batches[0]!.schema;
    const signalFields = schema.fields.filter((f) => f.name.startsWith('quality_') && f.name !== 'quality_reason');
    expect(signalFields.length).toBe(8 + 13 + 2); // gopher, repetition, c4
    for (const f of signalFields) expect(f.type).toBeInstanceOf(Float32);
    expect(annotated.stats.dropped).toBe(0);

    const dropped = await runOp(quality, {}, batches);
    const flagged = annotated.rows.filter((r) => r.quality_reason !== null);
    expect(dropped.rows.map((r) => r.n)).toEqual(
      annotated.rows.filter((r) => r.quality_reason === null).map((r) => r.n),
    );
    const byReason: Record<string, number> = {};
    for (const r of flagged) byReason[r.quality_reason as string] = (byReason[r.quality_reason as string] ?? 0) + 1;
    expect(dropped.stats.dropReasons).toEqual(byReason);
    expect(Object.keys(byReason).length).toBeGreaterThan(5);
    // annotate counts what drop mode would have dropped
    expect(
      Object.fromEntries(
        Object.entries(annotated.stats.counters ?? {})
          .filter(([k]) => k.startsWith('would_drop.'))
          .map(([k, v]) => [k.slice('would_drop.'.length), v]),
      ),
    ).toEqual(byReason);
    // the signals are the ones the rules read: a word-count drop has fewer than 50 words
    for (const r of flagged.filter((x) => x.quality_reason === 'gopher.word_count'))
      expect((r.quality_words as number) < 50 || (r.quality_words as number) > 100_000).toBe(true);
  });

  it('real prose mostly passes every rule (Gopher and C4) at the published thresholds', async () => {
    const addresses = sotu();
    const { rows, stats } = await runOp(quality, {}, [textBatch(addresses.map((d) => d.text))]);
    expect(rows.length / addresses.length).toBeGreaterThanOrEqual(0.95);
    // C4's line rules take little from prose: most characters of the kept addresses remain
    const before = rows.reduce((a, r) => a + addresses[Number(r.n)]!.text.length, 0);
    const after = rows.reduce((a, r) => a + (r.text as string).length, 0);
    expect(after / before).toBeGreaterThan(0.9);
    expect(stats.dropReasons['gopher.word_count'] ?? 0).toBe(0);
  });

  it('rejects unknown rule names, listing the known ones', () => {
    expect(() => quality({ disable: ['gopher.wordcount'] })).toThrow(
      /config\.disable\.0: unknown rule; known rules: gopher\.word_count/,
    );
    expect(() => quality({ disable: ['nope.*'] })).toThrow(/unknown rule/);
    expect(() => quality({ disable: ['gopher.dup_*', 'c4.*'], repetition: { maxTopNgram: [0.2, 0.18] } })).toThrow(
      /maxTopNgram/,
    );
  });

  it('emits nothing for a batch whose rows were all dropped', async () => {
    const { batches, stats } = await runOp(quality, {}, [
      textBatch(['too short', 'also short']),
      textBatch([sotu()[200]!.text]),
    ]);
    expect(batches.map((b) => b.numRows)).toEqual([1]);
    expect(stats).toMatchObject({
      rowsIn: 3,
      rowsOut: 1,
      batchesIn: 2,
      batchesOut: 1,
      dropped: 2,
      dropReasons: { 'gopher.word_count': 2 },
    });
  });
});
