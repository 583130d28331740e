// Placeholder: runs parallel kernels inline until the worker pool lands.
import type { RecordBatch } from 'apache-arrow';
import type { Observable } from 'rxjs';
import type { OperatorContext } from '../core/context.ts';
import { mapBatch } from '../core/map-batch.ts';
import { countInput, countOutput } from '../core/count.ts';
import type { ResolvedNode } from '../graph/validate.ts';
import type { WorkerPool } from './worker-pool.ts';

export function parallelFor(_pool: WorkerPool) {
  return (node: ResolvedNode, ctx: OperatorContext) => (source: Observable<RecordBatch>): Observable<RecordBatch> => {
    const def = node.def;
    if (def.kind === 'source' || def.kind === 'sink' || !def.kernel) throw new Error(`${node.id}: not a parallel operator`);
    const kernel = def.kernel(node.config);
    return source.pipe(countInput(ctx.stats), mapBatch(kernel, { ctx }), countOutput(ctx.stats));
  };
}
