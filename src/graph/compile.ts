// Compilation of a validated pipeline to RxJS: sources become credit-gated pull Observables, edges
// become pipes, fan-in merges, fan-out shares one stream (adding a ticket reference per extra
// consumer). The result is one Observable of everything that reaches the end of the graph; it fails
// only after every sink has finished aborting, so no temporary file outlives the run.
import type { RecordBatch } from 'apache-arrow';
import { EMPTY, Observable, Subject, Subscription, defer, from, merge, mergeMap, share, tap } from 'rxjs';
import { makeContext } from '../core/context.ts';
import { instantiateSink, instantiateSource, instantiateTransform, type AnyOperatorDef } from '../core/operator.ts';
import type { ResourceScope } from '../core/resource.ts';
import type { SinkResult } from '../core/sink.ts';
import type { StatsRegistry } from '../core/stats.ts';
import { Ledger, releaseBatch, retain, ticketsOf, type Budget } from '../core/tickets.ts';
import { creditsOf } from './credits.ts';
import type { ResolvedNode, ResolvedPipeline } from './validate.ts';

export interface CompileOptions {
  signal: AbortSignal;
  stats: StatsRegistry;
  log?: (nodeId: string, message: string) => void;
  /** runs a parallel operator's kernel on worker threads (supplied by the runtime) */
  parallel?: (
    node: ResolvedNode,
    ctx: ReturnType<typeof makeContext>,
  ) => (s: Observable<RecordBatch>) => Observable<RecordBatch>;
  /** how each node runs (the physical plan's nodes): on which ranks, on how many worker threads, with
   * which credits. Without it, every node runs here as the spec says. */
  placement?: ReadonlyMap<string, NodePlacement>;
  /** this process's rank in the plan (default 0) */
  rank?: number;
  /** the spec's resources, built for this process */
  resources?: ResourceScope;
  /** several ranks: resolves when every rank has called it (a source that waits for sinks of rank 0
   * starts on every rank when rank 0's have finished) */
  barrier?: () => Promise<void>;
}

/** What the compiler takes from a physical-plan node. */
export interface NodePlacement {
  ranks: readonly number[];
  workers: number;
  credits?: Budget;
}

export interface CompiledPipeline {
  /** batches reaching non-sink terminals, and one SinkResult per sink */
  output: Observable<RecordBatch | SinkResult>;
  ledgers: Map<string, Ledger>;
}

export function compilePipeline(p: ResolvedPipeline, opts: CompileOptions): CompiledPipeline {
  const streams = new Map<string, Observable<RecordBatch>>();
  const ledgers = new Map<string, Ledger>();
  const terminals: Observable<RecordBatch | SinkResult>[] = [];
  const log = opts.log;
  const failure = new Subject<never>(); // errors once, when any terminal fails
  const threaded = opts.parallel !== undefined && [...p.nodes.values()].some((n) => n.workers > 0);

  const rank = opts.rank ?? 0;
  // sinks some source waits for (`after`): a promise each, settled when the sink finishes
  const finished = new Map<string, { done: Promise<void>; resolve(): void }>();
  for (const n of p.nodes.values()) {
    for (const a of n.after) {
      if (finished.has(a)) continue;
      let resolve!: () => void;
      const done = new Promise<void>((r) => {
        resolve = r;
      });
      finished.set(a, { done, resolve });
    }
  }
  for (const id of p.order) {
    const node = p.nodes.get(id)!;
    const def = node.def as AnyOperatorDef;
    const placed = opts.placement?.get(id) ?? { ranks: [rank], workers: node.workers, credits: creditsOf(node) };
    const here = placed.ranks.includes(rank);
    const ledger = here && placed.credits ? new Ledger(id, placed.credits) : undefined;
    if (ledger) ledgers.set(id, ledger);
    const ctx = makeContext(id, {
      stats: opts.stats.for(id),
      signal: opts.signal,
      ledger,
      threaded,
      resources: opts.resources,
      ...(log ? { log: (m: string) => log(id, m) } : {}),
    });
    const input =
      node.inputs.length === 0
        ? undefined
        : node.inputs.length === 1
          ? streams.get(node.inputs[0]!)!
          : merge(...node.inputs.map((i) => streams.get(i)!));

    if (def.kind === 'sink') {
      const sink = (here ? instantiateSink(def, node.config, ctx) : dropOffRank(id))(failWith(failure, input!));
      const waiter = finished.get(id);
      terminals.push(waiter ? sink.pipe(tap({ complete: () => waiter.resolve() })) : sink);
      continue;
    }
    let out: Observable<RecordBatch>;
    // a node placed on other ranks: a source emits nothing here, a transform passes batches on
    if (!here) out = def.kind === 'source' ? EMPTY : input!;
    else if (def.kind === 'source' && node.after.length > 0) {
      const waits = node.after.map((a) => finished.get(a)!.done);
      const ready = async () => {
        await Promise.all(waits);
        await opts.barrier?.();
      };
      out = defer(() => from(ready())).pipe(mergeMap(() => instantiateSource(def, node.config, ctx)));
    } else if (def.kind === 'source') out = instantiateSource(def, node.config, ctx);
    else if (placed.workers > 0 && opts.parallel)
      out = opts.parallel({ ...node, workers: placed.workers }, ctx)(input!);
    else out = instantiateTransform(def, node.config, ctx)(input!);

    const consumers = node.outputs.length;
    if (consumers === 0) terminals.push(failWith(failure, out));
    else if (consumers > 1)
      out = out.pipe(
        tap((b) => retain(ticketsOf(b), consumers - 1)),
        share(),
      );
    streams.set(id, out);
  }
  return { output: settleAll(terminals, failure), ledgers };
}

/** A sink placed on other ranks (rank 0's metrics): here its batches are dropped, credits returned. */
function dropOffRank(node: string) {
  return (source: Observable<RecordBatch>) =>
    new Observable<SinkResult>((sub) => {
      let rows = 0,
        batches = 0;
      return source.subscribe({
        next: (b) => {
          rows += b.numRows;
          batches++;
          releaseBatch(b);
        },
        error: (e: unknown) => sub.error(e),
        complete: () => {
          sub.next({ node, rows, batches, files: [], cancelled: false });
          sub.complete();
        },
      });
    });
}

/** `s`, failing as soon as `failure` does: a sink on an independent branch then aborts through its
 * own error path (removing its partial output) instead of being cut off by an unsubscribe. */
function failWith<T>(failure: Subject<never>, s: Observable<T>): Observable<T> {
  return new Observable<T>((sub) => {
    const both = failure.subscribe({ error: (e: unknown) => sub.error(e) });
    both.add(s.subscribe(sub));
    return both;
  });
}

/** Like merge, but on the first error it fails the other streams (through `failure`) and waits for
 * all of them to end before passing that first error on. */
function settleAll<T>(streams: Observable<T>[], failure: Subject<never>): Observable<T> {
  return new Observable<T>((sub) => {
    let open = streams.length;
    let first: { err: unknown } | undefined;
    const end = () => {
      if (--open > 0) return;
      if (first) sub.error(first.err);
      else sub.complete();
    };
    const all = new Subscription();
    for (const s of streams) {
      all.add(
        s.subscribe({
          next: (v) => sub.next(v),
          error: (err: unknown) => {
            if (!first) {
              first = { err };
              failure.error(err);
            }
            end();
          },
          complete: end,
        }),
      );
    }
    if (streams.length === 0) sub.complete();
    return all;
  });
}
