// The common frame of the file readers: records go into a batcher that `read` flushes whenever it is
// full; the last, partial batch goes out at the end and also before a fatal error (documents completed
// before it are not lost), and the rejects file is closed either way.
import { z } from 'zod';
import type { BadRecords } from '../../src/runtime/rejects.ts';

/** When a document reader's batch is full (spread into its zod config). One place, so a merge that
 * replays a reader's batches (shard/read-items) has the same defaults. */
export const docBatchLimits = {
  batchRows: z.number().int().min(1).default(256).describe('a batch is emitted once it holds this many documents'),
  batchBytes: z
    .number()
    .int()
    .min(1)
    .default(8 << 20)
    .describe('a batch is emitted once its text reaches this many bytes'),
};

export interface Flushable<B> {
  readonly size: number;
  flush(): B;
}

export async function* readerBatches<B>(
  rows: Flushable<B>,
  bad: BadRecords,
  read: () => AsyncGenerator<B>,
): AsyncGenerator<B> {
  try {
    yield* read();
    if (rows.size > 0) yield rows.flush();
  } catch (err) {
    if (rows.size > 0) yield rows.flush();
    throw err;
  } finally {
    await bad.close();
  }
}
