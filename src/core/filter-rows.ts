// Row filters: the row kernel (row-kernel.ts) with a predicate over (batch, row) that returns true to
// keep a row, or false / a reason string to drop it; drops are counted per reason. A batch left empty
// is dropped whole and its credit returns to the source; one with every row kept passes as it is.
import type { RecordBatch, TypeMap } from 'apache-arrow';
import type { OperatorFunction } from 'rxjs';
import { makeContext, type OperatorContext } from './context.ts';
import { kernelMap } from './kernel-stats.ts';
import { runRows, type RowSpec } from './row-kernel.ts';

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
  const reason = opts.reason ?? 'filtered';
  // no column of its own: the predicate reads what it likes, nulls included
  const spec: RowSpec = {
    column: null,
    read: 'none',
    nulls: 'row',
    batch: (b) => (_, row) => {
      const v = predicate(b as unknown as RecordBatch<T>, row);
      return v === true ? true : typeof v === 'string' ? v : reason;
    },
  };
  const kernel = (batch: RecordBatch<T>) => runRows(spec, batch as unknown as RecordBatch) as unknown as RecordBatch<T>;
  return kernelMap(kernel, opts.ctx ?? makeContext('filterRows'));
}
