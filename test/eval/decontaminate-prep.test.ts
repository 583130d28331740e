// `flowlm prep --decontaminate` in-process: a tiny input set where one document copies an eval item of
// the fixture task (test/fixtures/eval/tasks/janitor-passages.ts): drop leaves it out of the shards'
// decoded text, flag keeps it, the report lists it and the JSON summary counts it; and the embedded
// corpus (no --input) with the Moby-Dick fixture task loses exactly chapter 1.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContaminationReport } from '../../operators/eval/contamination-report.ts';
import { contaminationOfShards } from '../../operators/eval/shard-contamination.ts';
import { main } from '../../src/cli/main.ts';
import { mobyFiles } from '../operators/ingest/helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-decontaminate-prep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixture = (name: string) => new URL(`../fixtures/eval/tasks/${name}`, import.meta.url).pathname;
const data = join(tmp, 'data');

// marker sentences: one per document, to find it in the decoded shards
const COPY =
  'Intro words. HELLO my name is bob, i like eating PIZZA chicken chips & ice cream; maybe i should eat some more salad, but it is so booooring!';
const CLEAN_A = 'The first clean document talks about harbours, ropes and the weather at sea for a while.';
const CLEAN_B = 'The second clean document is about lamps, oil and the price of candles in the old town.';

beforeAll(async () => {
  mkdirSync(data);
  // chapter text around each marker, so that the documents fill several rows
  const [c2, c3, c4] = (await mobyFiles()).slice(1, 4).map((f) => readFileSync(f, 'utf8').slice(0, 3000));
  writeFileSync(join(data, 'a.txt'), `${CLEAN_A}\n\n${c2}`);
  writeFileSync(join(data, 'b.txt'), `${c3}\n\n${COPY}`);
  writeFileSync(join(data, 'c.txt'), `${CLEAN_B}\n\n${c4}`);
});

async function prep(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(['prep', '--workers', '0', '--progress', 'none', '--json', ...args], {
    out: (t) => {
      stdout += `${t}\n`;
    },
    err: (t) => {
      stderr += `${t}\n`;
    },
    stderr: process.stderr,
  });
  const last = stdout.trim().split('\n').pop();
  const json = JSON.parse(last ? last : '{}') as {
    documents: number;
    decontamination?: { contaminated: number; dropped: number };
  };
  return { code, stderr, json };
}

/** The text the shards hold: packed rows overlap by one token (row i holds stream positions i*SEQ..i*SEQ+SEQ). */
function shardText(out: string): string {
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
    seqLen: number;
    shards: Array<{ file: string }>;
  };
  const ids: number[] = [];
  for (const s of m.shards)
    for (const row of tableFromIPC(readFileSync(join(out, s.file))).getChild('input_ids')!) {
      const r = Array.from((row as { toArray(): Int32Array }).toArray());
      ids.push(...(ids.length === 0 ? r : r.slice(1)));
    }
  return getEncoding('cl100k_base').decode(ids);
}

describe('flowlm prep --decontaminate', () => {
  it('drop: the copying document is not in the shards, the summary counts it', async () => {
    const out = join(tmp, 'drop');
    const r = await prep(
      '--input',
      join(data, '*.txt'),
      '--out',
      out,
      '--seq-len',
      '64',
      '--decontaminate',
      fixture('janitor-passages.ts'),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.documents).toBe(2);
    expect(r.json.decontamination).toEqual({ contaminated: 1, dropped: 1 });
    const text = shardText(out);
    expect(text).toContain(CLEAN_A);
    expect(text).not.toContain('booooring');
    expect(text).not.toContain('HELLO my name');
  });

  it('flag: the document stays, the report lists it with the item it copies', async () => {
    const out = join(tmp, 'flag');
    const report = join(tmp, 'flag-report.json');
    const r = await prep(
      '--input',
      join(data, '*.txt'),
      '--out',
      out,
      '--seq-len',
      '64',
      '--decontaminate',
      fixture('janitor-passages.ts'),
      '--decontaminate-mode',
      'flag',
      '--decontaminate-report',
      report,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.documents).toBe(3);
    expect(r.json.decontamination).toEqual({ contaminated: 1, dropped: 0 });
    expect(shardText(out)).toContain('booooring');
    const rep = JSON.parse(readFileSync(report, 'utf8')) as ContaminationReport;
    expect(rep).toMatchObject({ mode: 'flag', documents: 3, contaminatedDocuments: 1 });
    expect(rep.tasks[0]).toMatchObject({ task: 'janitor-passages', contaminated: 1, contaminatedItems: [0] });
    expect(rep.tasks[0]!.trainingDocs).toHaveLength(1);
  });

  it('contaminationOfShards finds the copy in written shards, across rows shorter than an n-gram', async () => {
    const passages = fixture('janitor-passages.ts');
    // rows of 9 tokens: no 13-word n-gram fits in one, so only the stream put back together finds it
    for (const format of ['ipc', 'parquet']) {
      const out = join(tmp, `shards-${format}`);
      const r = await prep('--input', join(data, '*.txt'), '--out', out, '--seq-len', '8', '--format', format);
      expect(r.code, r.stderr).toBe(0);
      const rep = await contaminationOfShards(out, [passages]);
      expect(rep, format).toMatchObject({ n: 13, mode: 'report', documents: 3, contaminatedDocuments: 1 });
      expect(rep.tasks[0]).toMatchObject({ contaminated: 1, contaminatedItems: [0] });
      expect(rep.tasks[0]!.trainingDocs[0]!.id).toMatch(format === 'ipc' ? /^shard-00000\.arrow:\d+$/ : /\.parquet:1$/);
      // n: the copy drops the item's "and" ("chips & ice cream"): its longest run of the item is 14 words
      expect((await contaminationOfShards(out, [passages], 14)).contaminatedDocuments).toBe(1);
      expect((await contaminationOfShards(out, [passages], 15)).contaminatedDocuments).toBe(0);
    }
    // the shards prep wrote with --decontaminate (drop) hold no contamination
    const dropped = await contaminationOfShards(join(tmp, 'drop'), [passages]);
    expect(dropped).toMatchObject({ documents: 2, contaminatedDocuments: 0 });
  });

  it('usage errors: a bad mode, a mode without tasks', async () => {
    const out = join(tmp, 'never');
    const cases: Array<[string[], RegExp]> = [
      [
        ['--decontaminate', 'x', '--decontaminate-mode', 'mark'],
        /--decontaminate-mode expects drop or flag, got "mark"/,
      ],
      [['--decontaminate-mode', 'flag'], /--decontaminate-mode and --decontaminate-report need --decontaminate TASKS/],
      [['--decontaminate', ' , '], /--decontaminate expects eval task names, comma-separated/],
    ];
    for (const [argv, message] of cases) {
      const r = await prep('--out', out, ...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('the embedded corpus (no --input): Moby-Dick chapter 1 is the one document holding the fixture sentences', async () => {
    const out = join(tmp, 'embedded');
    const report = join(tmp, 'embedded-report.json');
    const base = await prep('--out', join(tmp, 'embedded-base'), '--format', 'parquet');
    const r = await prep(
      '--out',
      out,
      '--format',
      'parquet',
      '--decontaminate',
      fixture('moby-lines.ts'),
      '--decontaminate-report',
      report,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.decontamination).toEqual({ contaminated: 1, dropped: 1 });
    expect(r.json.documents).toBe(base.json.documents - 1);
    const rep = JSON.parse(readFileSync(report, 'utf8')) as ContaminationReport;
    expect(rep.tasks[0]).toMatchObject({ task: 'moby-lines', contaminated: 2, contaminatedItems: [0, 1] });
    expect(rep.tasks[0]!.trainingDocs).toEqual([{ id: expect.any(String), items: 2 }]);
  }, 120_000);
});
