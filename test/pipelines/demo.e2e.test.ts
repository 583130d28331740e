// `npm run demo` in small (3 steps on one core, 8 held-out rows, prep of a ~420 kB slice of the corpus
// given with --input): prep drops the documents that share a word 13-gram with the held-out evaluation
// text (so the shards it trains on hold none: checked by decoding them), the run trains, samples and
// prints the evaluation table from `flowlm eval`; then `flowlm eval` on the demo's checkpoint runs every
// shipped task (--limit 2) and reports every declared metric.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contaminationOfShards } from '../../operators/eval/shard-contamination.ts';
import { shippedTasks } from '../../src/eval/registry.ts';
import { expandGlobs } from '../../src/runtime/files.ts';
import { RunStore } from '../../src/runs/store.ts';
import { flowlm, lastJson, start, TS_IMPORT } from '../cli/spawn.ts';
import { SUBSET_INPUTS } from './prep-subset.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-demo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Cell = { value: number | null; stderr: number | null; n: number; chance?: number };

describe('the demo with evaluation', () => {
  it('trains on decontaminated shards, prints the eval table; flowlm eval runs every shipped task on its checkpoint', async () => {
    const out = join(tmp, 'demo');
    const demoRun = start(
      [
        '--import',
        TS_IMPORT,
        'pipelines/demo.ts',
        '--steps',
        '3',
        '--devices',
        'cpu:1',
        '--eval-limit',
        '3',
        '--val-rows',
        '8',
        ...SUBSET_INPUTS.flatMap((i) => ['--input', i]),
        '--out',
        out,
      ],
      { command: process.execPath },
    );
    // every shipped task on the demo's checkpoint, started once training has written it (the demo goes on
    // sampling and evaluating meanwhile)
    await demoRun.until(() => /\[demo\] \d+ s: 3 steps/.test(demoRun.stderr()), 600_000);
    const evalAll = flowlm([
      'eval',
      '--checkpoint',
      join(out, 'run'),
      '--tasks',
      'all',
      '--limit',
      '2',
      '--out',
      join(tmp, 'eval'),
      '--json',
    ]);
    const demo = await demoRun.done;
    expect(demo.code, demo.stderr).toBe(0);
    const summary = lastJson(demo.stdout) as {
      steps: number;
      valTokens: number;
      unigramTokens: number;
      eval: Record<string, Record<string, Cell>>;
      runId: string;
      report: string;
    };
    expect(summary.steps).toBe(3);
    // the training is a run of the store (FLOWLM_STORE of this test run) with its 3 steps, and the demo
    // ends with its report, recorded as the run's artifact
    expect(summary.report).toBe(join(out, 'report', 'report.html'));
    expect(existsSync(summary.report)).toBe(true);
    expect(existsSync(join(out, 'report', 'train-loss.png'))).toBe(true);
    expect(demo.stdout).toContain(`--- report ---\n${summary.report}\n`);
    const store = RunStore.open(process.env.FLOWLM_STORE!, { reap: false });
    expect(store.metrics(summary.runId, 'train/loss').map((p) => p.step)).toEqual([1, 2, 3]);
    expect(store.artifacts(summary.runId)).toContainEqual(
      expect.objectContaining({ path: summary.report, kind: 'report' }),
    );
    store.close();
    // --val-rows 8: validation and the unigram baseline score every target token of 8 rows of 128, no more
    expect([summary.valTokens, summary.unigramTokens]).toEqual([8 * 128, 8 * 128]);
    expect(demo.stdout).toContain('--- evaluation');
    expect(demo.stdout).toMatch(/held-out bits per byte\s+\d/);
    expect(demo.stdout).toMatch(/last-word cloze accuracy\s+\S+.*n=3\s+\(chance 0\)/);
    expect(summary.eval['heldout-perplexity']!.bits_per_byte!.value).toBeGreaterThan(0);

    // the shards it trained on share no 13-gram with the held-out documents
    const report = await contaminationOfShards(join(out, 'prep'), ['heldout-perplexity']);
    // prep read the slice given with --input (the whole corpus has ~350 documents), less its held-out
    // documents (every 20th year or chapter: the slice holds one, so a prep that kept it fails below) and
    // any other document sharing a 13-gram with them
    const files = await expandGlobs(SUBSET_INPUTS);
    const heldout = files.filter(
      (f) => Number(/(?:\/(\d{4})_\w+|chapter_(\d+))\.txt$/.exec(f)?.slice(1).find(Boolean)) % 20 === 0,
    );
    expect(heldout.length).toBeGreaterThan(0);
    expect(report.documents).toBeLessThanOrEqual(files.length - heldout.length);
    expect(report.documents).toBeGreaterThan(files.length / 2);
    expect(report.contaminatedDocuments).toBe(0);
    expect(report.tasks[0]!.contaminated).toBe(0);

    const r = await evalAll;
    expect(r.code, r.stderr).toBe(0);
    const all = lastJson(r.stdout) as { tasks: Record<string, Record<string, Cell>> };
    const shipped = await shippedTasks();
    expect(shipped.size).toBeGreaterThanOrEqual(8);
    for (const [name, task] of shipped) {
      expect(Object.keys(all.tasks[name] ?? {}).sort(), name).toEqual(Object.keys(task.metrics).sort());
      for (const [metric, c] of Object.entries(all.tasks[name]!)) {
        expect(c.n, `${name}/${metric}`).toBeGreaterThan(0);
        expect(c.value, `${name}/${metric}`).not.toBeNull();
      }
    }
    expect(JSON.parse(readFileSync(join(tmp, 'eval', 'results.json'), 'utf8')).tasks).toEqual(all.tasks);
  }, 900_000);
});
