// Compilation of a validated pipeline to RxJS: sources become credit-gated pull Observables, edges
// become pipes, fan-in merges, fan-out shares one stream (adding a ticket reference per extra
// consumer). The result is one Observable of everything that reaches the end of the graph.
import type { RecordBatch } from 'apache-arrow';
import { merge, share, tap, type Observable } from 'rxjs';
import { makeContext } from '../core/context.ts';
import { instantiateSink, instantiateSource, instantiateTransform, type AnyOperatorDef } from '../core/operator.ts';
import type { SinkResult } from '../core/sink.ts';
import type { StatsRegistry } from '../core/stats.ts';
import { Ledger, retain, ticketsOf } from '../core/tickets.ts';
import type { ResolvedNode, ResolvedPipeline } from './validate.ts';

export interface CompileOptions {
  signal: AbortSignal;
  stats: StatsRegistry;
  log?: (nodeId: string, message: string) => void;
  /** runs a parallel operator's kernel on worker threads (supplied by the runtime) */
  parallel?: (node: ResolvedNode, ctx: ReturnType<typeof makeContext>) => (s: Observable<RecordBatch>) => Observable<RecordBatch>;
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

  for (const id of p.order) {
    const node = p.nodes.get(id)!;
    const def = node.def as AnyOperatorDef;
    const ledger = def.kind === 'source' ? new Ledger(id, node.budget) : undefined;
    if (ledger) ledgers.set(id, ledger);
    const ctx = makeContext(id, { stats: opts.stats.for(id), signal: opts.signal, ledger, ...(log ? { log: (m: string) => log(id, m) } : {}) });
    const input = node.inputs.length === 0 ? undefined
      : node.inputs.length === 1 ? streams.get(node.inputs[0]!)! : merge(...node.inputs.map((i) => streams.get(i)!));

    if (def.kind === 'sink') { terminals.push(instantiateSink(def, node.config, ctx)(input!)); continue; }
    let out: Observable<RecordBatch>;
    if (def.kind === 'source') out = instantiateSource(def, node.config, ctx);
    else if (node.workers > 0 && opts.parallel) out = opts.parallel(node, ctx)(input!);
    else out = instantiateTransform(def, node.config, ctx)(input!);

    const consumers = node.outputs.length;
    if (consumers === 0) terminals.push(out);
    else if (consumers > 1) out = out.pipe(tap((b) => retain(ticketsOf(b), consumers - 1)), share());
    streams.set(id, out);
  }
  return { output: merge(...terminals), ledgers };
}
