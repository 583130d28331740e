// `flowlm eval` on a checkpoint as `flowlm train` writes it (a small GPT with GPT-2's vocabulary, random
// weights): the Parquet table holds one row per (task, metric) and the JSON summary the same numbers;
// --limit bounds each task's documents (n); --batch-size changes no number; a calibration task gets a
// reliability diagram; --list says what each shipped task measures; bad flags and unknown tasks exit 2.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { saveCheckpoint, withShapes } from '../../src/nn/checkpoint/index.ts';
import { gptConfig } from '../../src/nn/model/config.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import { evalResultRows } from '../../src/schema/eval-results.ts';
import { flowlm, lastJson } from './spawn.ts';
import { RunStore } from '../../src/runs/store.ts';
import { expectBatchInvariant, rowInvariant } from '../nn/batch-invariance.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-eval-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const run = join(tmp, 'run');
const TASKS = 'lambada-moby-sotu,spam-zero-shot,name-swap';

beforeAll(async () => {
  await initBackend({ announce: false });
  const modelConfig = gptConfig({ vocabSize: 50257, contextLength: 64, nLayer: 1, nHead: 2, dModel: 16 });
  const model = Gpt.create(modelConfig, { seed: 11 });
  const shapes = new Map(model.specs.map((s) => [s.name, s.shape]));
  const zeros = new Map(model.specs.map((s) => [s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1))]));
  await saveCheckpoint(run, {
    step: 5,
    params: withShapes(model.getParams(), shapes),
    optimizer: { m: withShapes(zeros, shapes), v: withShapes(zeros, shapes), step: 5 },
    state: { rng: null, dataCursor: null, configHash: 'test', config: { encoding: 'gpt2', modelConfig } },
  });
  model.dispose();
});

type Summary = {
  ok: boolean;
  results: string;
  plots: string;
  tasks: Record<string, Record<string, { value: number | null; stderr: number | null; n: number; chance?: number }>>;
  config_hash: Record<string, string>;
};

const evaluate = async (out: string, ...more: string[]) => {
  const r = await flowlm(['eval', '--checkpoint', run, '--tasks', TASKS, '--out', out, '--json', ...more]);
  expect(r.code, r.stderr).toBe(0);
  return lastJson(r.stdout) as unknown as Summary;
};

describe('flowlm eval', () => {
  it('records the scores in the run store (eval/<task>/<metric> at the checkpoint step) and the tables', async () => {
    const store = join(tmp, 'runs.sqlite');
    const out = join(tmp, 'recorded');
    const r = await flowlm([
      'eval',
      '--checkpoint',
      join(run, 'step-000005'),
      '--tasks',
      'spam-zero-shot',
      '--limit',
      '4',
      '--out',
      out,
      '--json',
      '--store',
      store,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = lastJson(r.stdout) as unknown as Summary;
    const db = RunStore.open(store);
    try {
      const [rec] = db.runs({ command: 'eval' });
      expect(rec!.status).toBe('finished');
      const acc = db.metrics(rec!.id, 'eval/spam-zero-shot/acc');
      expect(acc.map((p) => [p.step, p.value])).toEqual([[5, s.tasks['spam-zero-shot']!.acc!.value]]);
      expect(
        db
          .artifacts(rec!.id)
          .map((a) => a.kind)
          .sort(),
      ).toEqual(['eval-summary', 'eval-table']);
    } finally {
      db.close();
    }
  });

  it('writes the results table and a summary with the same numbers; --limit, --batch-size', async () => {
    const [a, b, c] = await Promise.all([
      evaluate(join(tmp, 'a'), '--limit', '4', '--batch-size', '1'),
      evaluate(join(tmp, 'b'), '--limit', '4', '--batch-size', '8'),
      evaluate(join(tmp, 'c'), '--limit', '6'),
    ]);
    const rows = tableFromIPC(pw.readParquet(readFileSync(a.results)).intoIPCStream()).batches.flatMap((x) =>
      evalResultRows(x),
    );
    expect(new Set(rows.map((r) => r.task))).toEqual(new Set(TASKS.split(',')));
    for (const r of rows) {
      const s = a.tasks[r.task]![r.metric]!;
      expect(s.value).toBe(Number.isFinite(r.value) ? r.value : null);
      expect(s.n).toBe(r.n);
      expect(r.config_hash).toBe(a.config_hash[r.task]);
      expect(r.n).toBe(4); // every metric here has one item per document
    }
    expect(JSON.parse(readFileSync(join(tmp, 'a', 'results.json'), 'utf8'))).toMatchObject({ tasks: a.tasks });
    // the batch size changes nothing (beyond float32 rounding where the matmul is not row-invariant); the
    // limit changes n and the config hash
    expectBatchInvariant(b.tasks, a.tasks, await rowInvariant());
    expect(b.config_hash).toEqual(a.config_hash);
    expect(c.tasks['spam-zero-shot']!.acc!.n).toBe(6);
    expect(c.config_hash['spam-zero-shot']).not.toBe(a.config_hash['spam-zero-shot']);
    // chance levels come with the numbers; a calibration metric gets its reliability diagram
    expect(a.tasks['spam-zero-shot']!.acc!.chance).toBe(0.5);
    const svg = readFileSync(join(a.plots, 'spam-zero-shot.ece.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    expect(svg).toContain('ECE');
  }, 300_000);

  it('runs as a spec: flowlm run pipelines/eval-default.ts executes the plan flowlm plan prints, same numbers', async () => {
    const args = [
      '--set',
      `params.checkpoint=${run}`,
      '--set',
      'params.tasks=["spam-zero-shot"]',
      '--set',
      'params.limit=4',
      '--set',
      `params.out=${join(tmp, 'spec.parquet')}`,
    ];
    // independent child processes, run side by side
    const [plan, r, cli, missing] = await Promise.all([
      flowlm(['plan', 'pipelines/eval-default.ts', ...args, '--json']),
      flowlm(['run', 'pipelines/eval-default.ts', ...args, '--json', '--progress', 'none']),
      evaluate(join(tmp, 'spec-cli'), '--limit', '4'),
      flowlm(['run', 'pipelines/eval-default.ts', '--set', 'params.limit=4']),
    ]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout).plan).toEqual(JSON.parse(plan.stdout));
    const rows = tableFromIPC(pw.readParquet(readFileSync(join(tmp, 'spec.parquet'))).intoIPCStream()).batches.flatMap(
      (x) => evalResultRows(x),
    );
    for (const row of rows) expect(row.value).toBe(cli.tasks[row.task]![row.metric]!.value ?? Number.NaN);
    expect(rows.map((x) => x.metric).sort()).toEqual(['acc', 'acc_norm', 'ece']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('params.checkpoint');
  }, 300_000);

  it('prints a table without --json', async () => {
    const r = await flowlm([
      'eval',
      '--checkpoint',
      run,
      '--tasks',
      'spam-zero-shot',
      '--limit',
      '2',
      '--out',
      join(tmp, 't'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^task\s+metric\s+value\s+n\s+chance/m);
    expect(r.stdout).toMatch(/spam-zero-shot\s+acc\s+\S+.*\s2\s+0\.5000/);
  }, 120_000);

  it('--list names every shipped task with what it measures', async () => {
    const r = await flowlm(['eval', '--list']);
    expect(r.code, r.stderr).toBe(0);
    for (const t of ['lambada-moby-sotu', 'wordnet-definitions', 'spam-zero-shot', 'heldout-perplexity', 'name-swap'])
      expect(r.stdout).toContain(`${t}\n  `);
    expect(r.stdout).toContain('chance 0.25');
  }, 120_000);

  it('refuses unknown tasks and bad flags with exit 2 and the reason', async () => {
    const [unknown, limit, none] = await Promise.all([
      flowlm(['eval', '--checkpoint', run, '--tasks', 'no-such-task']),
      flowlm(['eval', '--checkpoint', run, '--tasks', 'spam-zero-shot', '--limit', '0']),
      flowlm(['eval', '--tasks', 'spam-zero-shot']),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown task "no-such-task"');
    expect(unknown.stderr).toContain('lambada-moby-sotu');
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('--limit');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--checkpoint');
    expect(existsSync(join(run, 'eval'))).toBe(false);
  }, 120_000);
});
