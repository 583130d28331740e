// What `flowlm runs` reads from the store: the store itself (an error that says where it looked when it is
// missing), runs by id or id prefix (an unknown id lists the nearest ones), and per-key summaries of a
// run's metrics computed in SQL (last, min, max, step count) so a long run is not loaded point by point.
import { existsSync } from 'node:fs';
import { RunStore, StoreError, type RunRow } from '../runs/store.ts';
import { DEFAULT_STORE, storePath } from '../runs/store-path.ts';

/** A problem with what was asked (no store, no such run): one message, exit code 1. */
export class RunsError extends Error {
  override readonly name = 'RunsError';
}

/** The store at --store / FLOWLM_STORE / .flowlm/runs.sqlite; dead runs are marked failed first when the
 * file is writable (a read-only one is read as it is). */
export function openStore(flag: string | undefined, opts: { write?: boolean } = {}): RunStore {
  const path = storePath(flag);
  if (!existsSync(path)) {
    const from =
      flag !== undefined
        ? '--store'
        : process.env.FLOWLM_STORE
          ? 'FLOWLM_STORE'
          : `the default ${DEFAULT_STORE} in ${process.cwd()}`;
    throw new RunsError(
      `no run store at ${path} (from ${from}); runs are recorded by flowlm run/prep/train/eval/tune ` +
        'in the project directory: run from there, or give the store with --store PATH or FLOWLM_STORE',
    );
  }
  if (opts.write) return RunStore.open(path);
  try {
    return RunStore.open(path);
  } catch (err) {
    // a store of a newer flowlm says so; any other trouble writing (a read-only file or directory) is
    // no reason not to read it
    if (err instanceof StoreError && /version/.test(err.message)) throw err;
    return RunStore.open(path, { readonly: true });
  }
}

const commonPrefix = (a: string, b: string) => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
};

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

export const shortId = (id: string) => id.slice(0, 8);
const describeRun = (r: RunRow) => `${shortId(r.id)} ${r.name} (${r.status})`;

/** The runs nearest to a mistyped id: longest common prefix, then fewest edits of the id's length. */
export function nearRuns(store: RunStore, id: string, n = 5): RunRow[] {
  const all = store.runs();
  const score = (r: RunRow) => [commonPrefix(r.id, id), -editDistance(r.id.slice(0, id.length), id)] as const;
  return all
    .map((r) => ({ r, s: score(r) }))
    .sort((a, b) => b.s[0] - a.s[0] || b.s[1] - a.s[1])
    .slice(0, n)
    .map((x) => x.r);
}

/** A run by id or unique id prefix; an error listing what it could have meant otherwise. */
export function resolveRun(store: RunStore, id: string): RunRow {
  let run: RunRow | undefined;
  try {
    run = store.run(id);
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    const matches = store.runs().filter((r) => r.id.startsWith(id));
    throw new RunsError(
      `run id "${id}" is the start of ${matches.length} runs; give more of it:\n` +
        matches
          .slice(0, 10)
          .map((r) => `  ${r.id.slice(0, Math.max(8, id.length + 2))} ${r.name} (${r.status})`)
          .join('\n'),
    );
  }
  if (run) return run;
  const near = nearRuns(store, id);
  throw new RunsError(
    near.length === 0
      ? `no run "${id}": the store ${store.path} has no runs yet`
      : `no run "${id}" in ${store.path}; nearest ids:\n${near.map((r) => `  ${describeRun(r)}`).join('\n')}\n` +
          '(flowlm runs ls lists them all)',
  );
}

export interface MetricSummary {
  key: string;
  /** the number of points (steps) */
  steps: number;
  firstStep: number;
  lastStep: number;
  /** the value at the last step (NaN when it was NaN) */
  last: number;
  /** over the finite and infinite values; NaN when every value was NaN */
  min: number;
  minStep: number | null;
  max: number;
  maxStep: number | null;
}

const num = (v: number | null) => (v === null ? Number.NaN : v);

/** Every metric key of a run, summarised. */
export function metricSummaries(store: RunStore, runId: string, keys?: readonly string[]): MetricSummary[] {
  const rows = store.db
    .prepare(
      `SELECT key, count(*) AS steps, min(step) AS first_step, max(step) AS last_step, min(value) AS mn, max(value) AS mx
       FROM metrics WHERE run_id = ? GROUP BY key ORDER BY key`,
    )
    .all(runId) as {
    key: string;
    steps: number;
    first_step: number;
    last_step: number;
    mn: number | null;
    mx: number | null;
  }[];
  const at = store.db.prepare('SELECT step, value FROM metrics WHERE run_id = ? AND key = ? AND step = ?');
  const stepOf = store.db.prepare(
    'SELECT step FROM metrics WHERE run_id = ? AND key = ? AND value = ? ORDER BY step LIMIT 1',
  );
  return rows
    .filter((r) => keys === undefined || keys.includes(r.key))
    .map((r) => {
      const last = at.get(runId, r.key, r.last_step) as { value: number | null };
      const stepAt = (v: number | null) =>
        v === null ? null : ((stepOf.get(runId, r.key, v) as { step: number } | undefined)?.step ?? null);
      return {
        key: r.key,
        steps: r.steps,
        firstStep: r.first_step,
        lastStep: r.last_step,
        last: num(last.value),
        min: num(r.mn),
        minStep: stepAt(r.mn),
        max: num(r.mx),
        maxStep: stepAt(r.mx),
      };
    });
}

/** The last value of one metric of a run, or undefined when it logged none. */
export function lastValue(store: RunStore, runId: string, key: string): number | undefined {
  const r = store.db
    .prepare('SELECT value FROM metrics WHERE run_id = ? AND key = ? ORDER BY step DESC LIMIT 1')
    .get(runId, key) as { value: number | null } | undefined;
  return r === undefined ? undefined : num(r.value);
}
