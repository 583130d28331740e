// A position in a shard dataset's sample stream, in global terms: `index` samples of epoch `epoch`
// have been consumed by all ranks together. Plain JSON, so a checkpoint's state.json can hold it, and
// independent of how many ranks read: a cursor saved at one world size resumes at any other.
import { RecordBatch, Schema } from 'apache-arrow';
import { z } from 'zod';

export const DatasetCursor = z.object({
  epoch: z.number().int().min(0).describe('the epoch (0-based) the position is in'),
  /** next global sample position within the epoch (0 <= index <= rows per epoch) */
  index: z
    .number()
    .int()
    .min(0)
    .describe(
      'next global sample position within the epoch: samples consumed by all ranks together (0 <= index <= rows per ' +
        'epoch)',
    ),
  /** the order it refers to; checked on restore when present */
  seed: z.number().int().optional().describe('seed of the order it refers to; checked on restore when present'),
  shuffle: z
    .boolean()
    .optional()
    .describe('whether the order it refers to is shuffled; checked on restore when present'),
  /** the dataset it refers to (ShardDataset.id); checked on restore when present */
  dataset: z
    .string()
    .optional()
    .describe('the dataset it refers to (ShardDataset.id); checked on restore when present'),
});
export type DatasetCursor = z.infer<typeof DatasetCursor>;

/** Schema-metadata key under which readShards puts, on each batch, the cursor after that batch. */
export const CURSOR_KEY = 'flowlm.cursor';

/** The batch with `cursor` in its schema metadata (the columns are shared, not copied). */
export function withCursor<B extends RecordBatch>(batch: B, cursor: DatasetCursor): B {
  const metadata = new Map(batch.schema.metadata);
  metadata.set(CURSOR_KEY, JSON.stringify(cursor));
  return new RecordBatch(new Schema(batch.schema.fields, metadata), batch.data) as B;
}

/** The cursor readShards attached to a batch: resuming from it gives the batches after this one. */
export function batchCursor(batch: RecordBatch): DatasetCursor | undefined {
  const text = batch.schema.metadata.get(CURSOR_KEY);
  return text === undefined ? undefined : DatasetCursor.parse(JSON.parse(text));
}
