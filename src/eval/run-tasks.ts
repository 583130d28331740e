// Tasks against a model: documents -> requests -> answers (harness.ts) -> each document's metric items
// -> one row per (task, metric) with its standard error. Each row carries a config hash of what the
// number depends on besides the weights (the task's settings, the document limit, the encoding), so
// numbers compare only with numbers of the same hash.
import { createHash } from 'node:crypto';
import type { Gpt } from '../nn/model/gpt.ts';
import { aggregateMetric } from './aggregate.ts';
import { answer, type HarnessOptions, type Tokenizer } from './harness.ts';
import type { EvalRequest, EvalResultRow, MetricItem, Task } from './task.ts';

export interface RunTasksOptions extends HarnessOptions {
  /** the first N documents of each task */
  limit?: number;
  /** the tokenizer's encoding name (part of the config hash) */
  encoding: string;
  /** called after each task with its rows */
  onTask?: (task: Task, rows: EvalResultRow[], items: TaskItems) => void;
}

/** Every document's item of each metric of a task (reliability diagrams read these). */
export type TaskItems = Map<string, MetricItem[]>;

export interface TaskRun {
  rows: EvalResultRow[];
  items: TaskItems;
  docs: number;
  requests: number;
  /** tokens scored by log-likelihood requests */
  tokens: number;
  seconds: number;
}

const stable = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );

export function taskConfigHash(task: Task, o: { limit?: number; encoding: string }): string {
  const what = { task: task.name, config: task.config ?? {}, limit: o.limit ?? null, encoding: o.encoding, v: 1 };
  return createHash('sha256').update(stable(what)).digest('hex').slice(0, 16);
}

/** One task: its rows and items. */
export async function runTask(model: Gpt, tok: Tokenizer, task: Task, o: RunTasksOptions): Promise<TaskRun> {
  const t0 = performance.now();
  const all = await task.docs(o.limit);
  const docs = o.limit === undefined ? all : all.slice(0, o.limit);
  if (docs.length === 0) throw new Error(`task ${task.name}: no documents`);
  const requests: EvalRequest[] = [];
  const spans: number[] = [];
  for (const d of docs) {
    const rs = task.requests(d);
    spans.push(rs.length);
    requests.push(...rs);
  }
  const results = answer(model, tok, requests, o);
  const items: TaskItems = new Map(Object.keys(task.metrics).map((m) => [m, []]));
  let at = 0;
  docs.forEach((d, i) => {
    const mine = results.slice(at, at + spans[i]!);
    at += spans[i]!;
    const got = task.process(d, mine);
    for (const [m, item] of Object.entries(got)) {
      const list = items.get(m);
      if (!list)
        throw new Error(
          `task ${task.name}: process() gave metric "${m}", which the task does not declare (${Object.keys(task.metrics).join(', ')})`,
        );
      if (item !== undefined) list.push(item);
    }
  });
  const hash = taskConfigHash(task, o);
  const rows = Object.entries(task.metrics).map(([metric, spec]): EvalResultRow => {
    const list = items.get(metric) ?? [];
    const { value, stderr } = aggregateMetric(spec, list, `task ${task.name}, metric ${metric}`);
    return { task: task.name, metric, value, stderr, n: list.length, config_hash: hash };
  });
  let tokens = 0;
  for (const r of results) if (r.kind !== 'generate_until') tokens += r.tokens;
  return {
    rows,
    items,
    docs: docs.length,
    requests: requests.length,
    tokens,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Every task in order; the rows of all. */
export async function runTasks(
  model: Gpt,
  tok: Tokenizer,
  tasks: readonly Task[],
  o: RunTasksOptions,
): Promise<EvalResultRow[]> {
  const rows: EvalResultRow[] = [];
  for (const task of tasks) {
    const r = await runTask(model, tok, task, o);
    o.onTask?.(task, r.rows, r.items);
    rows.push(...r.rows);
  }
  return rows;
}
