// A parallel operator's kernel on the worker pool: on N threads, each sent the pool's `depth` batches
// ahead (so a thread never waits for the main thread between batches), N x depth batches in flight
// (never an unbounded queue), output in input order, each output carrying its input's credit tickets,
// errors naming the node and the batch. Stats a kernel attaches to its output are recorded as in
// process (kernel-stats.ts), in input order, and the rows it rejected are written to its rejects file
// from the input batch held here. On cancellation the source stops emitting; batches already taken finish.
import type { RecordBatch } from 'apache-arrow';
import { defer, filter, map, type Observable, type OperatorFunction } from 'rxjs';
import { closing } from '../core/closing.ts';
import type { OperatorContext } from '../core/context.ts';
import { countInput, countOutput } from '../core/count.ts';
import { FlowError } from '../core/errors.ts';
import { orderedMap } from '../core/ordered-map.ts';
import { recordKernelStats } from '../core/kernel-stats.ts';
import { RowRejects } from '../core/row-rejects.ts';
import { pass, releaseBatch } from '../core/tickets.ts';
import type { ResolvedNode } from '../graph/validate.ts';
import type { KernelSpec, WorkerPool } from './worker-pool.ts';

/** The compiler's hook: runs a node that has `workers: N` on `pool`. */
export function parallelFor(pool: WorkerPool) {
  return (node: ResolvedNode, ctx: OperatorContext) =>
    (source: Observable<RecordBatch>): Observable<RecordBatch> => {
      const def = node.def;
      if (def.kind === 'source' || def.kind === 'sink' || !def.kernel || !def.module)
        throw new FlowError(
          node.id,
          `operator ${def.id} is not parallel: it needs a kernel and module (import.meta.url) to run on workers`,
        );
      const spec: KernelSpec = { module: def.module, id: def.id, config: node.config, parsed: true };
      return workerMap(pool, spec, Math.max(1, node.workers), ctx)(source);
    };
}

/** Kernel `spec` applied to each batch on at most `threads` threads of `pool`, counted in ctx.stats. */
export function workerMap(
  pool: WorkerPool,
  spec: KernelSpec,
  threads: number,
  ctx: OperatorContext,
): OperatorFunction<RecordBatch, RecordBatch> {
  const stats = ctx.stats;
  const n = Math.max(1, Math.min(threads, pool.size));
  return (source) =>
    defer(() => {
      let failed: FlowError | undefined; // after a failure no new batch is started
      const rejects = new RowRejects();
      return source.pipe(
        countInput(stats),
        orderedMap((batch: RecordBatch, index: number): Promise<Done | FlowError> => {
          if (failed) return Promise.resolve(failed); // never emitted: an earlier batch holds an error
          stats.queue++;
          return pool.run(spec, batch, { threads: n }).then(
            ({ batch: out, kernelMs }) => {
              stats.queue--;
              stats.busyMs += kernelMs; // thread time: may exceed wall time with several workers
              pass(batch, out);
              return { input: batch, out, index };
            },
            (err: unknown) => {
              stats.queue--;
              const e = toFlowError(ctx.nodeId, err, index);
              failed ??= e;
              return e;
            },
          );
        }, n * pool.depth),
        // a failure surfaces in input order, as it would in process: batches before it are emitted
        // first, and the error reported is that of the earliest failing batch
        map((r) => {
          if (r instanceof FlowError) throw r;
          rejects.write(r.input, recordKernelStats(r.out, stats), r.index);
          return r.out;
        }),
        // as in process (kernelMap): a batch the kernel emptied is dropped and its credit returns now
        filter((b) => {
          if (b.numRows > 0) return true;
          releaseBatch(b);
          return false;
        }),
        countOutput(stats),
        closing(() => rejects.close()),
      );
    });
}

/** A kernel's answer to batch `index`, with the input it answers (the rejects are read from it). */
interface Done {
  input: RecordBatch;
  out: RecordBatch;
  index: number;
}

function toFlowError(nodeId: string, err: unknown, batch: number): FlowError {
  const e = err as { reason?: unknown; location?: unknown };
  const reason = typeof e?.reason === 'string' ? e.reason : err instanceof Error ? err.message : String(err);
  const location = typeof e?.location === 'object' && e.location !== null ? e.location : {};
  return new FlowError(nodeId, reason, { ...location, batch }, { cause: err });
}
