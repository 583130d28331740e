// defineRowOperator: an operator whose work is a row kernel (row-kernel.ts). It is defineOperator with
// `rows` (the spec for a config) in place of `kernel` and `make`: the kernel runs the spec on a batch
// (the worker pool runs it on its threads), and inline the same kernel runs through kernelMap, which
// records its stats, writes its rejects and passes or releases the credit tickets.
import type { RecordBatch, TypeMap } from 'apache-arrow';
import { z } from 'zod';
import { kernelMap } from './kernel-stats.ts';
import { defineOperator, type ConfigSchema, type TransformDef, type TransformFactory } from './operator.ts';
import { runRows, type ColumnTypes, type RowSpec } from './row-kernel.ts';

export interface RowOperatorDef<
  C extends ConfigSchema,
  I extends TypeMap,
  O extends TypeMap,
  P extends boolean,
  K extends ColumnTypes,
> extends Omit<TransformDef<C, I, O, P>, 'kernel' | 'make'> {
  /** the row kernel for a config; made once per kernel instance (per thread), so set-up goes here */
  rows: (config: z.output<C>) => RowSpec<K>;
}

export function defineRowOperator<
  C extends ConfigSchema,
  I extends TypeMap,
  O extends TypeMap,
  P extends boolean,
  K extends ColumnTypes,
>(def: RowOperatorDef<C, I, O, P, K>): TransformFactory<C, I, O, P> {
  const { rows, ...rest } = def;
  const kernel = (config: z.output<C>) => {
    const spec = rows(config);
    return (batch: RecordBatch<I>): RecordBatch<O> =>
      runRows(spec, batch as unknown as RecordBatch) as unknown as RecordBatch<O>;
  };
  return defineOperator<C, I, O, P>({ ...rest, kernel, make: (config, ctx) => kernelMap(kernel(config), ctx) });
}

/** The config field of an operator that can write the rows it drops (spread into its zod object). */
export const rowRejectsConfig = {
  rejects: z
    .string()
    .min(1)
    .optional()
    .describe(
      'JSON Lines file receiving one object per dropped row {reason, batch, row, id?, record?} (record: the text it ' +
        'read, cut ' +
        'to 4 KiB); written to a temporary name and renamed into place when the operator finishes',
    ),
};
