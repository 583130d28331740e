// 1:1 batch transforms. The output carries the input's credit ticket; an error names the operator and
// the batch it failed on.
import type { RecordBatch, TypeMap } from 'apache-arrow';
import type { OperatorFunction } from 'rxjs';
import { makeContext, type OperatorContext } from './context.ts';
import { FlowError } from './errors.ts';
import { orderedMap } from './ordered-map.ts';
import { pass } from './tickets.ts';

export interface MapBatchOptions {
  ctx?: OperatorContext;
  /** batches processed at once when `fn` is async; output order is kept */
  concurrency?: number;
}

export function mapBatch<I extends TypeMap, O extends TypeMap>(
  fn: (batch: RecordBatch<I>, index: number) => RecordBatch<O> | Promise<RecordBatch<O>>,
  opts: MapBatchOptions = {},
): OperatorFunction<RecordBatch<I>, RecordBatch<O>> {
  const ctx = opts.ctx ?? makeContext('mapBatch');
  const stats = ctx.stats;
  return orderedMap((batch: RecordBatch<I>, index: number) => {
    const t0 = performance.now();
    const finish = (out: RecordBatch<O>) => {
      stats.busyMs += performance.now() - t0;
      pass(batch, out);
      return out;
    };
    let r: RecordBatch<O> | Promise<RecordBatch<O>>;
    try {
      r = fn(batch, index);
    } catch (err) {
      throw FlowError.wrap(ctx.nodeId, err, { batch: index });
    }
    if (r instanceof Promise) {
      stats.queue++;
      return r.then(
        (out) => {
          stats.queue--;
          return finish(out);
        },
        (err: unknown) => {
          stats.queue--;
          throw FlowError.wrap(ctx.nodeId, err, { batch: index });
        },
      );
    }
    return finish(r);
  }, opts.concurrency ?? 1);
}
