// `flowlm runs ls|show|compare|export|rm`: the run store from the command line (src/runs/store.ts), like
// `mlflow runs list` or `wandb`'s run table. Reads the store at --store / FLOWLM_STORE /
// .flowlm/runs.sqlite; runs are named by id or a unique id prefix (8 characters are shown).
import { createInterface } from 'node:readline/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RUN_STATUSES, type RunRow, type RunStatus, type RunStore } from '../runs/store.ts';
import { takeStoreFlag } from '../runs/store-path.ts';
import { UsageError, type CliIO } from './io.ts';
import { clip, fmtDuration, fmtParam, fmtTime, fmtValue, table } from './runs-format.ts';
import { exportRuns } from './runs-export.ts';
import { compareRuns, showRun, toJson } from './runs-show.ts';
import { lastValue, openStore, resolveRun, RunsError, shortId } from './runs-store.ts';

export const RUNS_HELP = `Usage: flowlm runs <subcommand> [--store PATH]

The runs recorded by flowlm run/prep/train/eval/tune (one SQLite file: --store PATH, else FLOWLM_STORE,
else .flowlm/runs.sqlite in the current directory). ID is a run id or a unique start of one (ls shows 8
characters). Runs whose process died (SIGKILL, crash) are marked failed when the store is opened.

  ls [--name S] [--status S] [--param k=v]... [--study NAME] [--command C] [--limit N] [--json]
      the runs, newest first: id, name, status, start, duration, the params that differ between the runs
      listed, the last train/loss and val/loss. --name: a part of the name; --status: ${RUN_STATUSES.join('|')};
      --param k=v: runs whose param k is v (repeatable: all must hold; 1e-3 matches 0.001);
      --study: the trials of a flowlm tune study
  show ID [--json]
      a run's fields (command line, status, error, git commit, config hash, environment, run directory),
      its params, every metric key with its step count and last, min and max values, and its artifacts
  compare ID ID... [--json]
      the params that differ (and how many are equal), and each metric's final and best value side by
      side: best is the minimum of loss-like keys (loss, perplexity, bits_per_byte, error), the maximum of
      accuracy-like ones (acc, f1, score, reward); the table says which
  export ID... --out FILE.csv|FILE.parquet [--key K]...
      the metric points (run_id, run_name, key, step, value, time) of the runs, all keys or those given,
      as CSV (time in ms since the epoch; NaN, Infinity spelled out) or Parquet (time a timestamp[ms]);
      written atomically
  rm ID... [--yes]
      deletes the runs with their params, metrics and artifact records (not their files: the run
      directory stays). Asks first on a terminal; elsewhere --yes is required

Exit codes: 0 done; 1 no store, no such run, or refused; 2 bad command line.`;

const SUBCOMMANDS = ['ls', 'show', 'compare', 'export', 'rm'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

/** parseArgs, with its errors as usage errors of `flowlm runs <sub>` */
function args<T extends NonNullable<ParseArgsConfig['options']>>(sub: Sub, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { ...options, json: { type: 'boolean' } }, allowPositionals: true });
  } catch (err) {
    throw new UsageError(`runs ${sub}: ${err instanceof Error ? err.message : String(err)}`, 'runs');
  }
}

export async function runsCommand(argvIn: string[], io: CliIO, stdin: NodeJS.ReadStream = process.stdin) {
  const { argv, store: flag } = takeStoreFlag(argvIn);
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help' || rest.includes('--help')) {
    (sub === undefined ? io.err : io.out)(RUNS_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(sub))
    throw new UsageError(`unknown subcommand "runs ${sub}" (subcommands: ${SUBCOMMANDS.join(', ')})`, 'runs');
  let store: RunStore | undefined;
  try {
    store = openStore(flag, { write: sub === 'rm' });
    switch (sub as Sub) {
      case 'ls':
        return ls(store, rest, io);
      case 'show': {
        const { values, positionals } = args('show', rest, {});
        if (positionals.length !== 1) throw new UsageError('runs show takes one run ID', 'runs');
        io.out(showRun(store, resolveRun(store, positionals[0]!), values.json === true));
        return 0;
      }
      case 'compare': {
        const { values, positionals } = args('compare', rest, {});
        if (positionals.length < 2) throw new UsageError('runs compare takes two run IDs or more', 'runs');
        const runs = resolveAll(store, positionals);
        if (runs.length < 2) throw new UsageError('runs compare takes two different runs or more', 'runs');
        io.out(compareRuns(store, runs, values.json === true));
        return 0;
      }
      case 'export': {
        const { values, positionals } = args('export', rest, {
          out: { type: 'string', short: 'o' },
          key: { type: 'string', multiple: true },
        });
        if (positionals.length === 0) throw new UsageError('runs export takes one run ID or more', 'runs');
        if (!values.out) throw new UsageError('runs export needs --out FILE.csv or --out FILE.parquet', 'runs');
        const res = await exportRuns(store, resolveAll(store, positionals), values.out, values.key);
        io.out(
          values.json
            ? JSON.stringify(res)
            : `${res.rows} metric rows of ${res.runs} run${res.runs === 1 ? '' : 's'} -> ${res.path}`,
        );
        return 0;
      }
      case 'rm':
        return await rm(store, rest, io, stdin);
    }
  } catch (err) {
    if (!(err instanceof RunsError)) throw err;
    io.err(`flowlm runs ${sub}: ${err.message}`);
    return 1;
  } finally {
    store?.close();
  }
}

const resolveAll = (store: RunStore, ids: readonly string[]): RunRow[] => {
  const runs = ids.map((id) => resolveRun(store, id));
  const seen = new Set<string>();
  return runs.filter((r) => !seen.has(r.id) && seen.add(r.id));
};

const durationOf = (r: RunRow, now: number) => (r.endedAt ?? now) - r.startedAt;
const FINAL_KEYS = ['train/loss', 'val/loss'] as const;

/** The params worth a column: those that differ between the runs listed, else (one run, or all alike)
 * its params without the spec file. */
function keyParams(params: readonly Record<string, unknown>[]): string[] {
  const keys = [...new Set(params.flatMap((p) => Object.keys(p)))].sort();
  const differ = keys.filter((k) => new Set(params.map((p) => JSON.stringify(p[k]))).size > 1);
  return differ.length > 0 ? differ : keys.filter((k) => k !== 'file');
}

function ls(store: RunStore, argv: string[], io: CliIO): number {
  const { values, positionals } = args('ls', argv, {
    name: { type: 'string' },
    status: { type: 'string' },
    param: { type: 'string', multiple: true },
    study: { type: 'string' },
    command: { type: 'string' },
    limit: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`runs ls takes no arguments (got "${positionals[0]}")`, 'runs');
  const status = values.status;
  if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status))
    throw new UsageError(`--status ${status}: not a run status (${RUN_STATUSES.join(', ')})`, 'runs');
  const params: Record<string, string> = {};
  for (const kv of values.param ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param ${kv}: give key=value (e.g. --param trainer.lr=0.001)`, 'runs');
    params[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new UsageError(`--limit ${values.limit}: give a whole number of runs, 1 or more`, 'runs');
  let studyId: string | undefined;
  if (values.study !== undefined) {
    const study = store.study(values.study);
    if (!study) {
      const names = store.studies().map((s) => s.name);
      throw new RunsError(
        `no study "${values.study}" in ${store.path}; ${names.length ? `studies: ${names.join(', ')}` : 'it has no studies (flowlm tune makes them)'}`,
      );
    }
    studyId = study.id;
  }
  const runs = store.runs({
    name: values.name,
    status: status as RunStatus | undefined,
    command: values.command,
    params,
    studyId,
    limit,
  });
  const now = Date.now();
  const rows = runs.map((r) => ({
    run: r,
    params: store.params(r.id),
    final: Object.fromEntries(FINAL_KEYS.map((k) => [k, lastValue(store, r.id, k)])),
  }));
  if (values.json) {
    io.out(
      toJson(
        rows.map(({ run, params, final }) => ({
          ...run,
          durationMs: durationOf(run, now),
          params,
          final: Object.fromEntries(Object.entries(final).filter(([, v]) => v !== undefined)),
        })),
      ),
    );
    return 0;
  }
  if (rows.length === 0) {
    const filtered = Object.values(values).some((v) => v !== undefined);
    io.out(filtered ? `no runs match in ${store.path}` : `no runs in ${store.path}`);
    return 0;
  }
  const shown = keyParams(rows.map((r) => r.params));
  // a loss column when some run listed logged it (data prep runs have none)
  const losses = FINAL_KEYS.filter((k) => rows.some((r) => r.final[k] !== undefined));
  const body = rows.map(({ run, params, final }) => [
    shortId(run.id),
    clip(run.name, 32),
    run.status,
    fmtTime(run.startedAt),
    `${fmtDuration(durationOf(run, now))}${run.status === 'running' ? '+' : ''}`,
    clip(
      shown
        .filter((k) => k in params)
        .map((k) => `${k}=${fmtParam(params[k])}`)
        .join(' '),
      60,
    ),
    ...losses.map((k) => fmtValue(final[k])),
  ]);
  io.out(table(['id', 'name', 'status', 'started', 'duration', 'params', ...losses], body));
  return 0;
}

async function rm(store: RunStore, argv: string[], io: CliIO, stdin: NodeJS.ReadStream): Promise<number> {
  const { values, positionals } = args('rm', argv, { yes: { type: 'boolean', short: 'y' } });
  if (positionals.length === 0) throw new UsageError('runs rm takes one run ID or more', 'runs');
  // every id resolves before anything is deleted
  const runs = resolveAll(store, positionals);
  const list = runs.map((r) => `  ${shortId(r.id)} ${r.name} (${r.status})`).join('\n');
  if (!values.yes) {
    if (!stdin.isTTY)
      throw new RunsError(
        `would delete ${runs.length} run${runs.length === 1 ? '' : 's'}:\n${list}\nnot a terminal, so nothing was asked ` +
          'nor deleted: add --yes to delete them',
      );
    const rl = createInterface({ input: stdin, output: io.stderr });
    const answer = await rl.question(`delete ${runs.length} run${runs.length === 1 ? '' : 's'}?\n${list}\n[y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      io.err('flowlm runs rm: nothing deleted');
      return 1;
    }
  }
  for (const r of runs) store.deleteRun(r.id);
  const running = runs.filter((r) => r.status === 'running').length;
  io.out(
    `deleted ${runs.length} run${runs.length === 1 ? '' : 's'} from ${store.path}:\n${list}` +
      (running ? `\n(${running} of them still running: what their processes write from now on is dropped)` : ''),
  );
  return 0;
}
