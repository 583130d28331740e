// The local executor: validate, compile, run to completion or first error or cancellation, and report
// per-node stats. Batches that reach a non-sink end of the graph are released there.
import type { RecordBatch } from 'apache-arrow';
import { RecordBatch as RB } from 'apache-arrow';
import { CancelledError, FlowError, SpecError } from '../core/errors.ts';
import type { SinkResult } from '../core/sink.ts';
import { StatsRegistry, type StatsSnapshot } from '../core/stats.ts';
import { releaseBatch, type Ledger } from '../core/tickets.ts';
import { compilePipeline } from '../graph/compile.ts';
import type { Registry } from '../graph/registry.ts';
import { validatePipeline, type ResolvedPipeline } from '../graph/validate.ts';
import type { PhysicalPlan } from '../scheduler/plan-types.ts';
import { parallelFor } from './parallel.ts';
import { openScope, type ScopeOptions } from './resource-scope.ts';
import { WorkerPool } from './worker-pool.ts';

export interface RunOptions {
  registry?: Registry;
  signal?: AbortSignal;
  /** called every `progressMs` (and once at the end) with live stats */
  onProgress?: (p: Progress) => void;
  progressMs?: number;
  log?: (nodeId: string, message: string) => void;
  /** label for error messages (the spec's file) */
  source?: string;
  /** worker threads for nodes with `workers` (kept open: the caller closes it); default: a pool of
   * this run, closed when it ends */
  pool?: WorkerPool;
  /** the physical plan to run (scheduler/physical-plan.ts): which nodes run on this rank, on how many
   * worker threads, with which credits. Without it, every node runs here as the spec says. */
  plan?: PhysicalPlan;
  /** this process's place in the run and the command's hooks, for the spec's resources */
  scope?: ScopeOptions;
  /** several ranks: resolves when every rank has called it (compile.ts CompileOptions.barrier) */
  barrier?: () => Promise<void>;
  /** called with the resources this process built, after the graph ends and before they are disposed */
  onResources?: (built: Map<string, unknown>) => void;
}

export interface Progress {
  elapsedMs: number;
  nodes: Record<string, StatsSnapshot>;
  sources: Record<string, { inFlight: number; inFlightBytes: number; peakInFlight: number }>;
}

export interface RunResult {
  ok: boolean;
  durationMs: number;
  nodes: Record<string, StatsSnapshot>;
  sinks: SinkResult[];
  sources: Progress['sources'];
  /** the physical plan that ran, when one was given */
  plan?: PhysicalPlan;
  cancelled?: boolean;
  error?: { operator?: string; message: string; location?: FlowError['location'] };
  /** the error object the run failed with (not enumerable: the summary is plain data) */
  readonly thrown?: unknown;
}

function ledgerReport(ledgers: Map<string, Ledger>): Progress['sources'] {
  return Object.fromEntries(
    [...ledgers].map(([id, l]) => [
      id,
      { inFlight: l.inFlight, inFlightBytes: l.inFlightBytes, peakInFlight: l.peakInFlight },
    ]),
  );
}

/** Runs a spec (or an already validated pipeline). Throws SpecError for an invalid spec; every other
 * failure is reported in the result with ok: false. */
export async function runPipeline(spec: unknown, opts: RunOptions = {}): Promise<RunResult> {
  const resolved = isResolved(spec) ? spec : await validatePipeline(spec, opts.registry, opts.source);
  const stats = new StatsRegistry();
  for (const id of resolved.order) stats.for(id);
  const signal = opts.signal ?? new AbortController().signal;
  const pool = opts.pool ?? new WorkerPool();
  const scope = openScope(resolved.resources, {
    ...opts.scope,
    signal,
    log: opts.scope?.log ?? ((m) => opts.log?.('resources', m)),
  });
  const placement = opts.plan ? new Map(opts.plan.nodes.map((n) => [n.id, n])) : undefined;
  const compiled = compilePipeline(resolved, {
    signal,
    stats,
    log: opts.log,
    parallel: parallelFor(pool),
    placement,
    rank: opts.scope?.rank,
    resources: scope.scope,
    barrier: opts.barrier,
  });
  const t0 = performance.now();
  const progress = (): Progress => ({
    elapsedMs: performance.now() - t0,
    nodes: stats.snapshot(),
    sources: ledgerReport(compiled.ledgers),
  });
  const timer = opts.onProgress ? setInterval(() => opts.onProgress!(progress()), opts.progressMs ?? 1000) : undefined;
  const sinks: SinkResult[] = [];
  let error: unknown;
  try {
    await new Promise<void>((resolve, reject) => {
      compiled.output.subscribe({
        next: (v) => {
          if (v instanceof RB) releaseBatch(v as RecordBatch);
          else sinks.push(v as SinkResult);
        },
        error: reject,
        complete: resolve,
      });
    });
  } catch (err) {
    error = err;
  } finally {
    if (timer) clearInterval(timer);
    if (!opts.pool) await pool.close();
    try {
      opts.onResources?.(scope.built());
    } finally {
      await scope.dispose();
    }
  }
  const final = progress();
  opts.onProgress?.(final);
  const cancelled = signal.aborted;
  const base = {
    durationMs: Math.round(final.elapsedMs),
    nodes: final.nodes,
    sinks,
    sources: final.sources,
    ...(opts.plan ? { plan: opts.plan } : {}),
  };
  if (error !== undefined) {
    const e =
      error instanceof FlowError ? error.toJSON() : { message: error instanceof Error ? error.message : String(error) };
    const failed: RunResult = { ok: false, ...base, ...(cancelled ? { cancelled } : {}), error: e };
    // the thrown object itself, for callers that rethrow it (a rank's failure names the rank to blame)
    Object.defineProperty(failed, 'thrown', { value: error, enumerable: false });
    return failed;
  }
  if (cancelled) {
    const why = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
    return { ok: false, ...base, cancelled, error: { message: new CancelledError(why).message } };
  }
  return { ok: true, ...base };
}

function isResolved(x: unknown): x is ResolvedPipeline {
  return (
    typeof x === 'object' &&
    x !== null &&
    (x as ResolvedPipeline).nodes instanceof Map &&
    Array.isArray((x as ResolvedPipeline).order)
  );
}

export { SpecError };
