// What an operator instance may use at run time. Outside a flowlm run every field has a sensible
// default, so a factory's OperatorFunction works in any RxJS app.
import { OperatorStats } from './stats.ts';
import type { ResourceScope } from './resource.ts';
import type { Ledger } from './tickets.ts';

export interface OperatorContext {
  /** node id in the pipeline; the operator id when used on its own */
  readonly nodeId: string;
  readonly stats: OperatorStats;
  /** aborted when the run is cancelled: sources stop pulling, long work should stop early */
  readonly signal: AbortSignal;
  /** the credit ledger a source node draws from; undefined outside a flowlm run */
  readonly ledger?: Ledger;
  /** batches of this run go to worker threads: a reader puts large columns in shared memory, where
   * they cross without a copy (runtime/shared-memory.ts) */
  readonly threaded?: boolean;
  /** the spec's resources (models, optimizers, replicas) built for this process; undefined outside a run */
  readonly resources?: ResourceScope;
  log(message: string): void;
}

export function makeContext(nodeId: string, partial: Partial<OperatorContext> = {}): OperatorContext {
  return {
    nodeId,
    stats: partial.stats ?? new OperatorStats(nodeId),
    signal: partial.signal ?? new AbortController().signal,
    ledger: partial.ledger,
    threaded: partial.threaded ?? false,
    resources: partial.resources,
    log: partial.log ?? ((m: string) => process.stderr.write(`[${nodeId}] ${m}\n`)),
  };
}
