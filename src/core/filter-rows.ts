// Row filters. The predicate returns true to keep a row, or false / a reason string to drop it; drops
// are counted per reason. A batch left empty is dropped whole and its credit returns to the source.
import type { RecordBatch, TypeMap } from 'apache-arrow';
import { Observable, type OperatorFunction } from 'rxjs';
import { takeRows } from '../schema/build.ts';
import { makeContext, type OperatorContext } from './context.ts';
import { FlowError } from './errors.ts';
import { pass, releaseBatch } from './tickets.ts';

export type RowVerdict = boolean | string;

export interface FilterRowsOptions {
  ctx?: OperatorContext;
  /** reason counted for rows the predicate drops with a plain `false` */
  reason?: string;
}

export function filterRows<T extends TypeMap>(
  predicate: (batch: RecordBatch<T>, row: number) => RowVerdict,
  opts: FilterRowsOptions = {},
): OperatorFunction<RecordBatch<T>, RecordBatch<T>> {
  const ctx = opts.ctx ?? makeContext('filterRows');
  const defaultReason = opts.reason ?? 'filtered';
  return (source) => new Observable<RecordBatch<T>>((subscriber) => {
    let index = 0;
    return source.subscribe({
      next: (batch) => {
        const b = index++;
        const keep: number[] = [];
        const t0 = performance.now();
        let r = 0;
        try {
          for (; r < batch.numRows; r++) {
            const v = predicate(batch, r);
            if (v === true) keep.push(r);
            else ctx.stats.drop(typeof v === 'string' ? v : defaultReason);
          }
        } catch (err) {
          subscriber.error(FlowError.wrap(ctx.nodeId, err, { batch: b, row: r }));
          return;
        } finally { ctx.stats.busyMs += performance.now() - t0; }
        if (keep.length === batch.numRows) { subscriber.next(batch); return; }
        if (keep.length === 0) { releaseBatch(batch); return; }
        const out = takeRows(batch, keep);
        pass(batch, out);
        subscriber.next(out);
      },
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
  });
}
