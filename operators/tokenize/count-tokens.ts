// Token counts from the tokens column, read from its list offsets (no ids are touched): either a
// per-document `n_tokens` Int32 column, or totals only, kept in the operator's stats (counters
// `documents` and `tokens`) with the batches passed on unchanged. A pure kernel: runs on workers too.
import { Int32, List, Schema, makeVector, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import type { RowSpec } from '../../src/core/row-kernel.ts';
import { defineRowOperator } from '../../src/core/row-operator.ts';
import { schemaOf } from '../../src/schema/index.ts';
import { tokensField } from './tokens-column.ts';

type In = { tokens: List<Int32> };
type Out = { n_tokens: Int32 };

const Config = z.object({
  mode: z
    .enum(['column', 'totals'])
    .default('column')
    .describe('column: add n_tokens per row; totals: count documents and tokens in the stats only'),
});
type Cfg = z.output<typeof Config>;

/** Tokens in each row of a List column, from its offsets. */
export function tokenCounts(batch: RecordBatch<In>): Int32Array {
  const col = batch.getChild('tokens');
  if (!col)
    throw new Error(`column "tokens" missing (batch has ${batch.schema.names.join(', ')}); put tokenize upstream`);
  const counts = new Int32Array(batch.numRows);
  let row = 0;
  for (const d of col.data) {
    const off = d.valueOffsets;
    for (let r = 0; r < d.length; r++) counts[row++] = d.nullBitmap && !d.getValid(r) ? 0 : off[r + 1]! - off[r]!;
  }
  return counts;
}

// no row is walked: the counts come from the offsets at once (a null list counts 0)
const rows = (cfg: Cfg): RowSpec => ({
  column: 'tokens',
  read: 'none',
  nulls: 'keep',
  missing: 'put tokenize upstream',
  // totals: the same columns; the batch's schema only carries the counts to the operator boundary
  columns: cfg.mode === 'column' ? { n_tokens: new Int32() } : {},
  batch: (batch, t) => ({
    finish: () => {
      const counts = tokenCounts(batch as RecordBatch<In>);
      let total = 0;
      for (const c of counts) total += c;
      t.count('documents', batch.numRows);
      t.count('tokens', total);
      return cfg.mode === 'column' ? { n_tokens: makeVector(counts) } : {};
    },
  }),
});

export const countTokens = defineRowOperator({
  id: 'tokenize/count-tokens',
  description: 'token counts per document (n_tokens column) or in total (stats counters documents, tokens)',
  module: import.meta.url,
  config: Config,
  input: () => schemaOf<In>({ tokens: { type: tokensField().type } }),
  passthrough: true,
  output: (cfg) => (cfg.mode === 'column' ? schemaOf<Out>({ n_tokens: { type: new Int32() } }) : new Schema<Out>([])),
  rows,
});
