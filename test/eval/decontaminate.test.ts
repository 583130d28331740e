// Decontamination: the n-gram index against an independent reference (word n-grams as joined strings,
// lm-evaluation-harness's janitor conventions and its test sequences), and eval/decontaminate over Doc
// batches with the fixture tasks in test/fixtures/eval/tasks: each config field changes what is dropped
// or reported.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Utf8 } from 'apache-arrow';
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { decontaminate, type DecontaminateConfig } from '../../operators/eval/decontaminate.ts';
import type { ContaminationReport } from '../../operators/eval/contamination-report.ts';
import { forEachWindow, NgramIndex, WordHashes } from '../../operators/eval/ngram-index.ts';
import { OperatorStats } from '../../src/core/stats.ts';
import { batchFromColumns, schemaOf } from '../../src/schema/index.ts';
import { mobyFiles } from '../operators/ingest/helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-decontaminate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixture = (name: string) => new URL(`../fixtures/eval/tasks/${name}`, import.meta.url).pathname;
const PASSAGES = fixture('janitor-passages.ts');
const MOBY = fixture('moby-lines.ts');

// The reference normalisation, written apart from the index's scanner: lower-case, anything but
// letters, digits and marks separates words; n-grams as the words joined by one space.
const words = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
const ngrams = (s: string, n: number) => {
  const w = words(s);
  const out: string[] = [];
  for (let i = 0; i + n <= w.length; i++) out.push(w.slice(i, i + n).join(' '));
  return out;
};

// tests/test_janitor.py (EleutherAI/lm-evaluation-harness): the sequence of test_word_ngrams and the
// 76-character line and contaminant of test_janitor3/5
const SEQUENCE =
  'Hello my name is Bob, I like eating pizza, chicken, chips and ice cream. Maybe I should eat some' +
  " more salad but it's so booooring. I just... like eating pizza, chicken, chips and ice cream so much.";
const LINE = 'This is a @line #containing a certain number of characters, 76 to be exact. ';
const JANITOR3 = `${LINE.repeat(6)}FILTH. lots of dirty filtHy FIlTh ${LINE.repeat(6)}`;
const JANITOR5 = `${LINE.repeat(6)}FILTH. lots of dirty filtHy FIlTh ${LINE.repeat(6)}FILTH. lots of filtHy dirty FIlTh ${LINE.repeat(6)}`;

describe('ngram index', () => {
  it('has a window per n consecutive words, as the janitor test counts them (n = 1, 2, 3, 5, 13)', () => {
    const w = new WordHashes().read(SEQUENCE);
    // "it's" is two words here (punctuation becomes a space): 39 words where str.split() sees 38
    expect(w.count).toBe(words(SEQUENCE).length);
    expect(w.count).toBe(SEQUENCE.split(/\s+/).length + 1);
    for (const n of [1, 2, 3, 5, 13]) {
      let windows = 0;
      forEachWindow(w, n, () => windows++);
      expect(windows, `n=${n}`).toBe(ngrams(SEQUENCE, n).length);
    }
  });

  it("finds the janitor tests' 6-gram contaminants, case and punctuation aside, and nothing in the clean text", () => {
    const index = new NgramIndex({ n: 6, minWords: 6 });
    index.add(0, 0, ['filth lots of dirty filthy filth']);
    index.add(0, 1, ['filth lots of filthy dirty filth']);
    const hits = (text: string) => {
      const items = new Set<number>();
      index.scan(text, (p) => items.add(p.item));
      return [...items].sort();
    };
    expect(hits(LINE.repeat(12))).toEqual([]);
    expect(hits(JANITOR3)).toEqual([0]);
    expect(hits(JANITOR5)).toEqual([0, 1]);
  });

  it('agrees with joined-string 13-grams over Moby-Dick: every chapter pair sharing one, and only those', async () => {
    const texts = (await mobyFiles()).slice(0, 40).map((f) => readFileSync(f, 'utf8'));
    const evalSet = texts.slice(0, 20);
    const train = texts.slice(20);
    // eval items: whole chapters, and sentences of the training chapters (so that some match)
    const items = [...evalSet, ...train.map((t) => t.slice(t.length >> 1, (t.length >> 1) + 200))];
    const index = new NgramIndex({ n: 13, minWords: 8 });
    items.forEach((t, i) => index.add(0, i, [t]));
    const sets = items.map((t) => {
      const g = ngrams(t, 13);
      return new Set(g.length > 0 ? g : [words(t).join(' ')]);
    });
    let pairs = 0;
    for (const t of train) {
      const got = new Set<number>();
      index.scan(t, (p) => got.add(p.item));
      const want = new Set<number>();
      const windows = ngrams(t, 13);
      sets.forEach((s, i) => {
        if (windows.some((g) => s.has(g))) want.add(i);
      });
      expect([...got].sort((a, b) => a - b)).toEqual([...want].sort((a, b) => a - b));
      pairs += want.size;
    }
    expect(pairs).toBeGreaterThanOrEqual(train.length); // each training chapter holds its own sentence
  });
});

// Training documents: each tests one rule (the fixtures' items are in test/fixtures/eval/tasks)
const moby1 = async () => readFileSync((await mobyFiles()).find((f) => f.endsWith('/chapter_1.txt'))!, 'utf8');
const moby2 = async () => readFileSync((await mobyFiles()).find((f) => f.endsWith('/chapter_2.txt'))!, 'utf8');
async function trainingDocs(): Promise<Array<[string, string]>> {
  return [
    // item 0 of janitor-passages, other case and punctuation, inside other text
    [
      'copy-0',
      'Intro words here. HELLO my name is bob - i like eating PIZZA chicken chips & ice cream; maybe i should eat some more salad, but it is so booooring! The end.',
    ],
    // 12 consecutive words of item 0: a 12-gram, not a 13-gram
    ['part-0', 'Someone said: hello my name is Bob, I like eating pizza, chicken, chips and then left.'],
    // item 1 (12 words) whole: a short item matched as one n-gram
    ['short-1', 'He wrote "I just... like eating pizza, chicken, chips and ice cream so much." on the wall.'],
    // item 2 (5 words) whole: under minWords (8)
    ['tiny-2', 'We saw lots of dirty filthy filth today.'],
    // the second text of item 4
    [
      'context-4',
      'Each one containing a certain number of characters, seventy six to be exact, and then some more words.',
    ],
    // moby-lines' two sentences
    ['moby-1', await moby1()],
    ['moby-2', await moby2()],
  ];
}

const schema = () => schemaOf<{ id: Utf8; text: Utf8 }>({ id: { type: new Utf8() }, text: { type: new Utf8() } });

async function run(config: Partial<DecontaminateConfig> & { tasks: string[] }) {
  const docs = await trainingDocs();
  // two batches: one index and one tally over the stream
  const batches = [docs.slice(0, 3), docs.slice(3)].map((part) =>
    batchFromColumns(schema(), { id: part.map((d) => d[0]), text: part.map((d) => d[1]) }),
  );
  const stats = new OperatorStats('decontaminate');
  const out = await lastValueFrom(from(batches).pipe(decontaminate(config, { stats, log: () => {} }), toArray()));
  const ids = out.flatMap((b) => [...b.getChild('id')!].map(String));
  return { ids, stats: stats.snapshot() };
}

describe('eval/decontaminate', () => {
  it('drops documents sharing a 13-gram with the tasks (tasks: both fixtures)', async () => {
    const r = await run({ tasks: [PASSAGES, MOBY] });
    expect(r.ids).toEqual(['part-0', 'tiny-2', 'moby-2']);
    expect(r.stats.dropReasons).toEqual({ eval_contamination: 4 });
  });

  it('tasks: only the named tasks count (moby-lines left out keeps chapter 1)', async () => {
    const r = await run({ tasks: [PASSAGES] });
    expect(r.ids).toEqual(['part-0', 'tiny-2', 'moby-1', 'moby-2']);
  });

  it('n: with 12-grams the 12 shared words of part-0 are contamination', async () => {
    const r = await run({ tasks: [PASSAGES], n: 12 });
    expect(r.ids).toEqual(['tiny-2', 'moby-1', 'moby-2']);
  });

  it('minWords: a 5-word item is checked when minWords allows it', async () => {
    const r = await run({ tasks: [PASSAGES], minWords: 5 });
    expect(r.ids).toEqual(['part-0', 'moby-1', 'moby-2']);
  });

  it('mode flag: every document kept, the contaminated counted', async () => {
    const r = await run({ tasks: [PASSAGES, MOBY], mode: 'flag' });
    expect(r.ids).toEqual(['copy-0', 'part-0', 'short-1', 'tiny-2', 'context-4', 'moby-1', 'moby-2']);
    expect(r.stats.dropped).toBe(0);
    expect(r.stats.counters).toEqual({ contaminated: 4 });
  });

  it('report: per task the contaminated items and the training documents that hit them, written atomically', async () => {
    const path = join(tmp, 'reports', 'contamination.json');
    await run({ tasks: [PASSAGES, MOBY], mode: 'flag', report: path });
    const report = JSON.parse(readFileSync(path, 'utf8')) as ContaminationReport;
    expect(report).toEqual({
      n: 13,
      minWords: 8,
      mode: 'flag',
      documents: 7,
      contaminatedDocuments: 4,
      tasks: [
        {
          task: 'janitor-passages',
          items: 5,
          checked: 3, // items 2 and 3 have 5 and 6 words
          contaminated: 3,
          contaminatedItems: [0, 1, 4],
          trainingDocs: [
            { id: 'copy-0', items: 1 },
            { id: 'short-1', items: 1 },
            { id: 'context-4', items: 1 },
          ],
        },
        {
          task: 'moby-lines',
          items: 2,
          checked: 2,
          contaminated: 2,
          contaminatedItems: [0, 1],
          trainingDocs: [{ id: 'moby-1', items: 2 }],
        },
      ],
    });
    expect(readdirSync(join(tmp, 'reports'))).toEqual(['contamination.json']); // no temporary left
    // without `report` nothing is written
    await run({ tasks: [PASSAGES] });
    expect(existsSync(join(tmp, 'contamination.json'))).toBe(false);
  });

  it('names what is wrong: an unknown task, an empty task list', async () => {
    await expect(run({ tasks: ['no-such-task-anywhere'] })).rejects.toThrow(/unknown task "no-such-task-anywhere"/);
    await expect(run({ tasks: [] })).rejects.toThrow(/config\.tasks/);
  });
});
