// Exact dedup on real text: Moby-Dick's dataset ships every chapter twice (chapter_N.txt, and data.txt
// with the whole book hard-wrapped and with straight instead of curly quotes).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Utf8 } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { exactDedup, normalizeForExact } from '../../../operators/dedup/exact.ts';
import { OperatorStats } from '../../../src/core/stats.ts';
import { FlowError } from '../../../src/core/errors.ts';
import { batchFromColumns, schemaOf } from '../../../src/schema/index.ts';
import { docBatches, emailBodies, idsOf, mobyBookChapters, mobyChapters, runOp, type Text } from './corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'flowlm-exact-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = { log: () => undefined };

/** Ids a reference dedup keeps: a JS Set of the normalised strings themselves (no hashing). */
function referenceKept(
  docs: readonly Text[],
  norm: { lowercase: boolean; whitespace: boolean; punctuation: boolean },
): string[] {
  const seen = new Set<string>();
  return docs
    .filter((d) => {
      const k = normalizeForExact(d.text, norm);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .map((d) => d.id);
}

const chapters = mobyChapters();
const book = mobyBookChapters();
const docs = [...chapters, ...book];

describe('dedup/exact', () => {
  it('catches the chapters the book repeats once punctuation is stripped, and keeps the first copy', async () => {
    const stats = new OperatorStats('exact');
    const out = await runOp(docBatches(docs, 50), exactDedup({ punctuation: true }, { ...quiet, stats }));
    const kept = idsOf(out);
    const want = referenceKept(docs, { lowercase: true, whitespace: true, punctuation: true });
    expect(kept).toEqual(want);
    const dropped = docs.length - kept.length;
    console.log(
      `moby-dick: ${chapters.length} chapters + ${book.length} book chapters -> ${dropped} exact duplicates dropped`,
    );
    expect(dropped).toBeGreaterThanOrEqual(130); // 4 chapter files differ from the book in their heading
    expect(kept.slice(0, chapters.length)).toEqual(chapters.map((c) => c.id)); // the first copy is kept
    expect(stats.dropReasons.get('exact_duplicate')).toBe(dropped);
  });

  it('normalisation is configurable: with punctuation kept, curly vs straight quotes differ', async () => {
    const out = await runOp(docBatches(docs, 50), exactDedup({}, quiet));
    const kept = idsOf(out);
    expect(kept).toEqual(referenceKept(docs, { lowercase: true, whitespace: true, punctuation: false }));
    expect(docs.length - kept.length).toBeLessThan(10);
    // and without whitespace collapsing the hard-wrapped book matches nothing
    const raw = await runOp(docBatches(docs, 50), exactDedup({ whitespace: false, punctuation: true }, quiet));
    expect(idsOf(raw)).toEqual(referenceKept(docs, { lowercase: true, whitespace: false, punctuation: true }));
    expect(idsOf(raw).length).toBeGreaterThan(kept.length - 10);
  });

  it('finds the real duplicates among SpamAssassin messages', async () => {
    const mails = [...emailBodies('spam-1'), ...emailBodies('spam-2')];
    const out = await runOp(docBatches(mails, 200), exactDedup({}, quiet));
    const want = referenceKept(mails, { lowercase: true, whitespace: true, punctuation: false });
    expect(idsOf(out)).toEqual(want);
    expect(mails.length - want.length).toBeGreaterThan(0);
  });

  it('saves and restores its index: two halves with a restart give the output of one run', async () => {
    const batches = docBatches(docs, 30);
    const one = idsOf(await runOp(batches, exactDedup({ punctuation: true }, quiet)));
    const statePath = join(dir, 'halves.idx');
    const half = Math.floor(batches.length / 2);
    const a = idsOf(await runOp(batches.slice(0, half), exactDedup({ punctuation: true, statePath }, quiet)));
    const logs: string[] = [];
    const b = idsOf(
      await runOp(batches.slice(half), exactDedup({ punctuation: true, statePath }, { log: (m) => logs.push(m) })),
    );
    expect([...a, ...b]).toEqual(one);
    expect(logs.join('\n')).toMatch(/restored dedup index .*halves\.idx: \d+ distinct texts held/);
  });

  it('after a restore, documents the saved run already passed on are replays, not duplicates', async () => {
    const batches = docBatches(docs, 30);
    const one = idsOf(await runOp(batches, exactDedup({ punctuation: true }, quiet)));
    const statePath = join(dir, 'replay.idx');
    await runOp(batches.slice(0, 5), exactDedup({ punctuation: true, statePath, saveEvery: 2 }, quiet));
    // the job stopped; its sink may not have committed what it had: the input is read again from the start
    const again = idsOf(await runOp(batches, exactDedup({ punctuation: true, statePath }, quiet)));
    expect(again).toEqual(one);
  });

  it('refuses an index saved with other settings, and a damaged file, naming the file', async () => {
    const statePath = join(dir, 'settings.idx');
    await runOp(docBatches(chapters.slice(0, 10)), exactDedup({ statePath }, quiet));
    await expect(
      runOp(docBatches(chapters.slice(0, 10)), exactDedup({ statePath, punctuation: true }, quiet)),
    ).rejects.toThrow(/settings\.idx: was saved with different settings/);
    const bad = join(dir, 'bad.idx');
    writeFileSync(bad, 'not an index');
    await expect(runOp(docBatches(chapters.slice(0, 10)), exactDedup({ statePath: bad }, quiet))).rejects.toThrow(
      /bad\.idx: not a flowlm dedup state file/,
    );
  });

  it('enforces its memory bound: fails clearly, or evicts the oldest half', async () => {
    const batches = docBatches(chapters, 20);
    const err = await runOp(batches, exactDedup({ maxEntries: 50 }, quiet)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowError);
    expect(String((err as Error).message)).toMatch(
      /\[dedup\/exact\] at batch 2, row 10: exact-dedup index is full: maxEntries 50 .*onFull: 'evict'/,
    );
    // evict: 50 entries in two generations of 25; the first chapters are forgotten, recent ones are not
    const evict = exactDedup({ maxEntries: 50, onFull: 'evict' }, quiet);
    const again = [...chapters, ...chapters.slice(0, 5), ...chapters.slice(-5)].map((c, i) => ({
      ...c,
      id: `${c.id}@${i}`,
    }));
    const kept = idsOf(await runOp(docBatches(again, 20), evict));
    expect(kept.length).toBe(chapters.length + 5); // old repeats pass again, recent repeats are caught
    expect(kept.slice(-5).map((id) => id.split('@')[0])).toEqual(chapters.slice(0, 5).map((c) => c.id));
  });

  it('without an id column there are no replays: a restored index drops every repeat', async () => {
    const schema = schemaOf<{ text: Utf8 }>({ text: { type: new Utf8() } });
    const b = batchFromColumns(schema, { text: chapters.slice(0, 20).map((c) => c.text) });
    const statePath = join(dir, 'no-id.idx');
    expect((await runOp([b], exactDedup({ statePath }, quiet)))[0]!.numRows).toBe(20);
    expect(await runOp([b], exactDedup({ statePath }, quiet))).toEqual([]);
  });

  it('passes rows without text through, unindexed', async () => {
    const schema = schemaOf<{ id: Utf8; text: Utf8 }>({
      id: { type: new Utf8() },
      text: { type: new Utf8(), nullable: true },
    });
    const b = batchFromColumns(schema, { id: ['a', 'b', 'c', 'd'], text: [null, 'x', null, 'X'] });
    expect(idsOf(await runOp([b], exactDedup({}, quiet)))).toEqual(['a', 'b', 'c']);
  });
});
