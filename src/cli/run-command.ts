// `flowlm run <spec>`: load a spec, apply --set overrides, validate, run with live progress on stderr,
// report on stdout (a table, or with --json one JSON object as the last line). Exit codes: 0 done,
// 1 the run failed, 2 bad usage or invalid spec, 130/143 cancelled by SIGINT/SIGTERM.
import { recordPipelineRun } from './record-pipeline.ts';
import { parseArgs } from 'node:util';
import { SpecError, type SpecIssue } from '../core/errors.ts';
import { applyOverrides, withBudget } from '../graph/load.ts';
import { defaultRegistry, type Registry } from '../graph/registry.ts';
import { validatePipeline, type ResolvedPipeline } from '../graph/validate.ts';
import { runPipeline, type RunResult } from '../runtime/run.ts';
import { createProgress, PROGRESS_MODES, type NodeInfo, type ProgressMode, type ProgressView } from './progress.ts';
import { exitCodeFor, trapSignals } from './signals.ts';
import { cancelLine, failureLine, humanSummary, jsonSummary } from './summary.ts';
import { UsageError, type CliIO } from './io.ts';
import { PREP_CLUSTER_OPTIONS } from './cluster-help.ts';

export const RUN_OPTIONS = {
  set: { type: 'string', multiple: true, short: 's' },
  json: { type: 'boolean' },
  progress: { type: 'string' },
  'max-in-flight': { type: 'string' },
  'max-in-flight-bytes': { type: 'string' },
  devices: { type: 'string' },
  resume: { type: 'boolean' },
  every: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

import { parseCount } from './count-flag.ts';

export { parseCount };

export interface Budget {
  maxInFlight?: number;
  maxInFlightBytes?: number;
}

/** A loaded spec with --set overrides and the budget applied, validated; every problem (bad --set and
 * spec issues alike) in one SpecError. */
export async function resolveSpec(
  loaded: unknown,
  sets: readonly string[],
  budget: Budget,
  registry: Registry,
  file: string,
): Promise<ResolvedPipeline> {
  const { spec, issues } = applyOverrides(loaded, sets);
  let resolved: ResolvedPipeline | undefined;
  let found: SpecIssue[] = [];
  try {
    resolved = await validatePipeline(withBudget(spec, budget), registry, file);
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    found = err.issues;
  }
  if (issues.length > 0 || !resolved) throw new SpecError([...issues, ...found], file);
  return resolved;
}

const nodeInfos = (p: ResolvedPipeline): NodeInfo[] =>
  p.order.map((id) => {
    const n = p.nodes.get(id)!;
    return { id, op: n.def.id, kind: n.def.kind ?? 'transform', maxInFlight: n.budget.maxInFlight, workers: n.workers };
  });

/** The progress mode and credit budget flags shared by run and prep. */
export function runSettings(
  values: { progress?: string; 'max-in-flight'?: string; 'max-in-flight-bytes'?: string },
  command: string,
): { mode: ProgressMode; budget: Budget } {
  const mode = (values.progress ?? 'auto') as ProgressMode;
  if (!PROGRESS_MODES.includes(mode))
    throw new UsageError(`--progress expects ${PROGRESS_MODES.join(', ')}; got "${values.progress}"`, command);
  return {
    mode,
    budget: {
      maxInFlight:
        values['max-in-flight'] === undefined ? undefined : parseCount('max-in-flight', values['max-in-flight']),
      maxInFlightBytes:
        values['max-in-flight-bytes'] === undefined
          ? undefined
          : parseCount('max-in-flight-bytes', values['max-in-flight-bytes'], true),
    },
  };
}

export async function runCommand(argv: string[], io: CliIO, registry: Registry = defaultRegistry): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { ...RUN_OPTIONS, ...PREP_CLUSTER_OPTIONS },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'run');
  }
  const { values, positionals } = args;
  if (values.help) {
    io.out(await (await import('./help.ts')).runHelp(registry)); // help.ts loads every operator
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? 'missing the spec file' : `expected one spec file, got ${positionals.join(' ')}`,
      'run',
    );
  const { mode, budget } = runSettings(values, 'run');
  const file = positionals[0]!;
  const sets = values.set ?? [];
  const clusterFlags = Object.keys(PREP_CLUSTER_OPTIONS).filter((k) => k in values);
  if (clusterFlags.length > 0) {
    // a data spec across processes and machines: a prep pipeline file, run as flowlm prep FILE --cluster runs it
    if (values.cluster === undefined)
      throw new UsageError(`${clusterFlags.map((k) => `--${k}`).join(', ')}: need --cluster URL`, 'run');
    const other = (['devices', 'resume', 'every', 'max-in-flight', 'max-in-flight-bytes', 'progress'] as const).filter(
      (k) => values[k] !== undefined,
    );
    if (other.length > 0)
      throw new UsageError(`--cluster does not take ${other.map((k) => `--${k}`).join(', ')}`, 'run');
    return (await import('./cluster-command.ts')).prepClusterCommand(values, {}, file, io, 'run');
  }
  // a graph with a training chain runs on --devices, one rank each, with training progress: flowlm train's path
  let resolved: ResolvedPipeline | undefined;
  // the planners load on use: they pull in the model code (tfjs), which prep and the cluster commands
  // (run-command's helpers) must not pay for at start-up
  const { resolveSpecFile } = await import('../scheduler/plan.ts');
  const { isReplicated, physicalPlan } = await import('../scheduler/physical-plan.ts');
  try {
    resolved = await resolveSpecFile(file, { sets, budget, registry });
  } catch {
    // loaded again below, where every problem (spec issues, internal errors) is reported the usual way
  }
  if (resolved && isReplicated(resolved)) {
    if (budget.maxInFlight !== undefined || budget.maxInFlightBytes !== undefined)
      throw new UsageError(
        "--max-in-flight/--max-in-flight-bytes: a training graph's budget is set in its spec (its data source keeps " +
          'one step in flight)',
        'run',
      );
    const argv2 = [
      file,
      ...sets.flatMap((x) => ['--set', x]),
      ...(values.devices ? ['--devices', values.devices] : []),
      ...(values.resume ? ['--resume'] : []),
      ...(values.json ? ['--json'] : []),
      ...(values.every ? ['--every', values.every] : []),
    ];
    return (await import('./train-command.ts')).trainCommand(argv2, io);
  }
  if (values.devices !== undefined || values.resume || values.every !== undefined)
    throw new UsageError(
      `--devices, --resume and --every apply to graphs with a training chain; ${file} has none`,
      'run',
    );
  const load = async () => resolved ?? resolveSpecFile(file, { sets, budget, registry });
  return executePipeline(load, io, { json: values.json ?? false, mode, source: file });
}

/** What a command adds to the report of a run that ended (completed, failed or cancelled). */
export interface RunReport {
  /** fields added to the --json summary object */
  json?(p: ResolvedPipeline, r: RunResult): Record<string, unknown>;
  /** lines printed after the node table (without --json, when the run completed) */
  human?(p: ResolvedPipeline, r: RunResult): string;
}

export interface ExecuteOptions {
  json: boolean;
  mode: ProgressMode;
  /** the spec's file, for messages */
  source: string;
  report?: RunReport;
}

/** Runs what `load` resolves with live progress, signals trapped from the start, and the summary on
 * stdout; returns the exit code. `load` throwing a SpecError reports it (exit 2). */
export async function executePipeline(
  load: () => Promise<ResolvedPipeline>,
  io: CliIO,
  opts: ExecuteOptions,
): Promise<number> {
  // trap signals from the start: a Ctrl-C while the spec loads also ends with one line, not a trace
  const controller = new AbortController();
  let view: ProgressView | undefined;
  const trap = trapSignals(controller, {
    // no extra line (the run ends with one); the live view says what is happening meanwhile
    onSignal: (sig) => view?.status(`stopping after ${sig} (again to exit now)`),
    onForce: (sig) =>
      io.err(`flowlm: ${sig} again: exiting now without waiting for in-flight work (.flowlm-tmp-* files may remain)`),
  });
  try {
    let resolved: ResolvedPipeline;
    try {
      resolved = await load();
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      io.err(err.message);
      if (opts.json) io.out(JSON.stringify({ ok: false, issues: err.issues }));
      return 2;
    }
    if (trap.received) {
      if (opts.json)
        io.out(JSON.stringify({ ok: false, pipeline: resolved.name, cancelled: true, signal: trap.received }));
      io.err(`flowlm: cancelled by ${trap.received} before ${resolved.name} started`);
      return exitCodeFor(trap.received);
    }

    const live = (view = createProgress(opts.mode, nodeInfos(resolved), resolved.name, io.stderr));
    const result = await runPipeline(resolved, {
      plan: (await import('../scheduler/physical-plan.ts')).physicalPlan(opts.source, resolved), // what flowlm plan prints for it; the summary records it
      signal: controller.signal,
      source: opts.source,
      log: (node, message) => live.log(`[${node}] ${message}`),
      ...(live.intervalMs > 0 ? { onProgress: (p) => live.update(p), progressMs: live.intervalMs } : {}),
    });
    live.finish();
    recordPipelineRun(resolved, result, (m) => io.err(`flowlm: ${m}`));
    const sig = trap.received;
    if (opts.json) {
      const { ok, pipeline, durationMs, ...rest } = jsonSummary(resolved, result, sig);
      io.out(JSON.stringify({ ok, pipeline, durationMs, ...opts.report?.json?.(resolved, result), ...rest }));
    }
    if (sig) {
      io.err(cancelLine(sig, resolved, result));
      return exitCodeFor(sig);
    }
    if (!result.ok) {
      io.err(failureLine(resolved, result));
      return 1;
    }
    if (!opts.json) {
      const extra = opts.report?.human?.(resolved, result);
      io.out(extra ? `${humanSummary(resolved, result)}\n${extra}` : humanSummary(resolved, result));
    }
    return 0;
  } catch (err) {
    // main() reports it; a --json caller still gets its last-line object
    if (opts.json)
      io.out(
        JSON.stringify({
          ok: false,
          error: { message: err instanceof Error ? err.message : String(err), internal: true },
        }),
      );
    throw err;
  } finally {
    trap.dispose();
  }
}
