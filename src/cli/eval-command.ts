// `flowlm eval --checkpoint DIR --tasks a,b [--limit N] [--json]`: scores a checkpoint on evaluation
// tasks through the eval pipeline (pipelines/eval-default.ts: eval/score-tasks -> io/write-parquet),
// then reads the Parquet table back and writes a JSON summary beside it. Prints a table, or with --json
// the summary.
import { withCurrentRun } from '../runs/current-run.ts';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { tableFromIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { loadTasks, shippedTasks } from '../eval/registry.ts';
import type { EvalResultRow } from '../eval/task.ts';
import { runPipeline } from '../runtime/run.ts';
import { writeFileAtomic } from '../runtime/files.ts';
import { evalResultRows } from '../schema/eval-results.ts';
import { loadEvalBuilder, type EvalOptions } from './eval-contract.ts';
import { UsageError, type CliIO } from './io.ts';
import { formatEvalTable } from './eval-table.ts';

export const EVAL_HELP = `Usage: flowlm eval --checkpoint DIR --tasks a,b,... [--limit N] [--batch-size B] [--out DIR] [--json]
       flowlm eval --list

Scores a checkpoint (a step-NNNNNN directory, or a run directory: its latest) on evaluation tasks.
  --tasks a,b       task names (flowlm eval --list), paths of task files (.ts or .json), or all
  --limit N         the first N documents of each task
  --batch-size B    log-likelihood requests per forward pass (default 8; scores do not depend on it)
  --out DIR         where results.parquet, results.json and reliability diagrams go (default out/eval)
  --json            print the summary as one JSON object instead of a table
  --list            the shipped tasks: what each measures and its chance level`;

const count = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new UsageError(`--${name} expects a whole number >= 1, got "${v}"`, 'eval');
  return Number(v);
};

export interface EvalSummary {
  ok: boolean;
  checkpoint: string;
  results: string;
  plots: string;
  seconds: number;
  limit?: number;
  tasks: Record<string, Record<string, { value: number | null; stderr: number | null; n: number; chance?: number }>>;
  config_hash: Record<string, string>;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function summarize(rows: readonly EvalResultRow[], chance: Map<string, Map<string, number>>) {
  const tasks: EvalSummary['tasks'] = {};
  const hashes: Record<string, string> = {};
  for (const r of rows) {
    tasks[r.task] ??= {};
    const c = chance.get(r.task)?.get(r.metric);
    tasks[r.task]![r.metric] = {
      value: finite(r.value),
      stderr: finite(r.stderr),
      n: r.n,
      ...(c !== undefined ? { chance: c } : {}),
    };
    hashes[r.task] = r.config_hash;
  }
  return { tasks, config_hash: hashes };
}

export async function evalCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      checkpoint: { type: 'string' },
      tasks: { type: 'string' },
      limit: { type: 'string' },
      'batch-size': { type: 'string' },
      out: { type: 'string', short: 'o' },
      json: { type: 'boolean' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(EVAL_HELP);
    return 0;
  }
  if (values.list) {
    for (const t of (await shippedTasks()).values()) {
      const metrics = Object.entries(t.metrics)
        .map(([m, s]) => (s.chance !== undefined ? `${m} (chance ${s.chance})` : m))
        .join(', ');
      io.out(`${t.name}\n  ${t.description}\n  metrics: ${metrics}`);
    }
    return 0;
  }
  if (!values.checkpoint)
    throw new UsageError('--checkpoint DIR is required (a run directory or a step directory)', 'eval');
  if (!values.tasks) throw new UsageError('--tasks a,b,... is required (flowlm eval --list shows them)', 'eval');
  const names = values.tasks
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  let tasks;
  try {
    tasks = await loadTasks(names);
  } catch (e) {
    throw new UsageError(`--tasks: ${(e as Error).message}`, 'eval');
  }
  const out = resolve(values.out ?? 'out/eval');
  mkdirSync(out, { recursive: true });
  const o: EvalOptions = {
    checkpoint: values.checkpoint,
    tasks: names,
    limit: count('limit', values.limit),
    batchSize: count('batch-size', values['batch-size']),
    results: join(out, 'results.parquet'),
    plots: join(out, 'plots'),
  };
  const t0 = performance.now();
  const build = await loadEvalBuilder();
  const run = await runPipeline(build(o), { log: (node, m) => io.err(`[${node}] ${m}`) });
  if (!run.ok) {
    const e = run.error;
    io.err(`flowlm eval: failed${e?.operator ? ` in ${e.operator}` : ''}: ${e?.message ?? 'unknown error'}`);
    if (values.json) io.out(JSON.stringify({ ok: false, error: e }));
    return 1;
  }
  const table = tableFromIPC(pw.readParquet(readFileSync(o.results)).intoIPCStream());
  const rows = table.batches.flatMap((b) => evalResultRows(b));
  const chance = new Map(
    tasks.map((t) => [
      t.name,
      new Map(Object.entries(t.metrics).flatMap(([m, s]) => (s.chance !== undefined ? [[m, s.chance]] : []))),
    ]),
  );
  const summary: EvalSummary = {
    ok: true,
    checkpoint: values.checkpoint,
    results: o.results,
    plots: o.plots!,
    seconds: (performance.now() - t0) / 1000,
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    ...summarize(rows, chance),
  };
  writeFileAtomic(join(out, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  // a recorded run (src/runs) keeps the scores as metrics eval/<task>/<metric> at the checkpoint's step
  // and the tables as artifacts
  withCurrentRun(
    (r) => {
      const step = Number(/step-(\d+)\/?$/.exec(values.checkpoint!)?.[1] ?? 0);
      const time = Date.now();
      r.logMetrics(rows.map((x) => ({ key: `eval/${x.task}/${x.metric}`, step, value: x.value, time })));
      r.logArtifact(o.results, 'eval-table');
      r.logArtifact(join(out, 'results.json'), 'eval-summary');
    },
    (m) => io.err(`flowlm eval: ${m}`),
  );
  if (values.json) io.out(JSON.stringify(summary));
  else io.out(formatEvalTable(rows, chance));
  return 0;
}
