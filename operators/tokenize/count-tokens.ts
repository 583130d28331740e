// Token counts from the tokens column, read from its list offsets (no ids are touched): either a
// per-document `n_tokens` Int32 column, or totals only, kept in the operator's stats (counters
// `documents` and `tokens`) with the batches passed on unchanged. A pure kernel: runs on workers too.
import { Int32, List, Schema, makeVector, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { defineOperator } from '../../src/core/operator.ts';
import { kernelMap, withKernelStats } from '../../src/core/kernel-stats.ts';
import { schemaOf, withColumns } from '../../src/schema/index.ts';
import { tokensField } from './tokens-column.ts';

type In = { tokens: List<Int32> };
type Out = { n_tokens: Int32 };

const Config = z.object({
  mode: z.enum(['column', 'totals']).default('column').describe('column: add n_tokens per row; totals: count documents and tokens in the stats only'),
});
type Cfg = z.output<typeof Config>;

/** Tokens in each row of a List column, from its offsets. */
export function tokenCounts(batch: RecordBatch<In>): Int32Array {
  const col = batch.getChild('tokens');
  if (!col) throw new Error(`column "tokens" missing (batch has ${batch.schema.names.join(', ')}); put tokenize upstream`);
  const counts = new Int32Array(batch.numRows);
  let row = 0;
  for (const d of col.data) {
    const off = d.valueOffsets;
    for (let r = 0; r < d.length; r++) counts[row++] = d.nullBitmap && !d.getValid(r) ? 0 : off[r + 1]! - off[r]!;
  }
  return counts;
}

const kernel = (cfg: Cfg) => (batch: RecordBatch<In>): RecordBatch<Out> => {
  const counts = tokenCounts(batch);
  let total = 0;
  for (const c of counts) total += c;
  const stats = { counters: { documents: batch.numRows, tokens: total } };
  // totals: the same columns; the batch's schema only carries the counts to the operator boundary
  const out = cfg.mode === 'totals' ? batch : withColumns(batch, { n_tokens: makeVector(counts) });
  return withKernelStats(out as unknown as RecordBatch<Out>, stats);
};

export const countTokens = defineOperator({
  id: 'tokenize/count-tokens',
  description: 'token counts per document (n_tokens column) or in total (stats counters documents, tokens)',
  module: import.meta.url,
  config: Config,
  input: () => schemaOf<In>({ tokens: { type: tokensField().type } }),
  passthrough: true,
  output: (cfg) => (cfg.mode === 'column' ? schemaOf<Out>({ n_tokens: { type: new Int32() } }) : new Schema<Out>([])),
  kernel,
  make: (cfg, ctx) => kernelMap(kernel(cfg), ctx),
});
