// `flowlm run <spec>`: load a spec, apply --set overrides, validate, run with live progress on stderr,
// report on stdout (a table, or with --json one JSON object as the last line). Exit codes: 0 done,
// 1 the run failed, 2 bad usage or invalid spec, 130/143 cancelled by SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { SpecError, type SpecIssue } from '../core/errors.ts';
import { applyOverrides, loadSpecFile, withBudget } from '../graph/load.ts';
import { defaultRegistry, type Registry } from '../graph/registry.ts';
import { validatePipeline, type ResolvedPipeline } from '../graph/validate.ts';
import { runPipeline } from '../runtime/run.ts';
import { runHelp } from './help.ts';
import { createProgress, PROGRESS_MODES, type NodeInfo, type ProgressMode, type ProgressView } from './progress.ts';
import { exitCodeFor, trapSignals } from './signals.ts';
import { cancelLine, failureLine, humanSummary, jsonSummary } from './summary.ts';
import { UsageError, type CliIO } from './io.ts';

export const RUN_OPTIONS = {
  set: { type: 'string', multiple: true, short: 's' },
  json: { type: 'boolean' },
  progress: { type: 'string' },
  'max-in-flight': { type: 'string' },
  'max-in-flight-bytes': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A positive integer, or for byte sizes one with a k/M/G suffix (powers of 1024). */
export function parseCount(flag: string, text: string, sizes = false): number {
  const m = /^(\d+)([kKmMgG]i?B?)?$/.exec(text.trim());
  const unit = m?.[2]?.[0]?.toLowerCase();
  const n = m ? Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || (unit && !sizes)) {
    throw new UsageError(`--${flag} expects a positive integer${sizes ? ' (optionally with k, M or G: 64M)' : ''}, got "${text}"`);
  }
  return n;
}

/** Loads, overrides and validates; every problem (bad --set and spec issues alike) in one SpecError. */
async function prepare(file: string, sets: string[], budget: { maxInFlight?: number; maxInFlightBytes?: number }, registry: Registry): Promise<ResolvedPipeline> {
  const loaded = await loadSpecFile(file);
  const { spec, issues } = applyOverrides(loaded, sets);
  let resolved: ResolvedPipeline | undefined;
  let found: SpecIssue[] = [];
  try { resolved = await validatePipeline(withBudget(spec, budget), registry, file); } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    found = err.issues;
  }
  if (issues.length > 0 || !resolved) throw new SpecError([...issues, ...found], file);
  return resolved;
}

const nodeInfos = (p: ResolvedPipeline): NodeInfo[] => p.order.map((id) => {
  const n = p.nodes.get(id)!;
  return { id, op: n.def.id, kind: n.def.kind ?? 'transform', maxInFlight: n.budget.maxInFlight, workers: n.workers };
});

export async function runCommand(argv: string[], io: CliIO, registry: Registry = defaultRegistry): Promise<number> {
  let args;
  try { args = parseArgs({ args: argv, options: RUN_OPTIONS, allowPositionals: true, strict: true }); } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'run');
  }
  const { values, positionals } = args;
  if (values.help) { io.out(await runHelp(registry)); return 0; }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing the spec file' : `expected one spec file, got ${positionals.join(' ')}`, 'run');
  const mode = (values.progress ?? 'auto') as ProgressMode;
  if (!PROGRESS_MODES.includes(mode)) throw new UsageError(`--progress expects ${PROGRESS_MODES.join(', ')}; got "${values.progress}"`, 'run');
  const budget = {
    maxInFlight: values['max-in-flight'] === undefined ? undefined : parseCount('max-in-flight', values['max-in-flight']),
    maxInFlightBytes: values['max-in-flight-bytes'] === undefined ? undefined : parseCount('max-in-flight-bytes', values['max-in-flight-bytes'], true),
  };
  const file = positionals[0]!;

  // trap signals from the start: a Ctrl-C while the spec loads also ends with one line, not a trace
  const controller = new AbortController();
  let view: ProgressView | undefined;
  const trap = trapSignals(controller, {
    // no extra line (the run ends with one); the live view says what is happening meanwhile
    onSignal: (sig) => view?.status(`stopping after ${sig} (again to exit now)`),
    onForce: (sig) => io.err(`flowlm: ${sig} again: exiting now without waiting for in-flight work (.flowlm-tmp-* files may remain)`),
  });
  try {
    let resolved: ResolvedPipeline;
    try { resolved = await prepare(file, values.set ?? [], budget, registry); } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      io.err(err.message);
      if (values.json) io.out(JSON.stringify({ ok: false, issues: err.issues }));
      return 2;
    }
    if (trap.received) {
      if (values.json) io.out(JSON.stringify({ ok: false, pipeline: resolved.name, cancelled: true, signal: trap.received }));
      io.err(`flowlm: cancelled by ${trap.received} before ${resolved.name} started`);
      return exitCodeFor(trap.received);
    }

    const live = (view = createProgress(mode, nodeInfos(resolved), resolved.name, io.stderr));
    const result = await runPipeline(resolved, {
      signal: controller.signal,
      source: file,
      log: (node, message) => live.log(`[${node}] ${message}`),
      ...(live.intervalMs > 0 ? { onProgress: (p) => live.update(p), progressMs: live.intervalMs } : {}),
    });
    live.finish();
    const sig = trap.received;
    if (values.json) io.out(JSON.stringify(jsonSummary(resolved, result, sig)));
    if (sig) { io.err(cancelLine(sig, resolved, result)); return exitCodeFor(sig); }
    if (!result.ok) { io.err(failureLine(resolved, result)); return 1; }
    if (!values.json) io.out(humanSummary(resolved, result));
    return 0;
  } catch (err) {
    // main() reports it; a --json caller still gets its last-line object
    if (values.json) io.out(JSON.stringify({ ok: false, error: { message: err instanceof Error ? err.message : String(err), internal: true } }));
    throw err;
  } finally {
    trap.dispose();
  }
}
