// The common frame of the file readers: records go into a batcher that `read` flushes whenever it is
// full; the last, partial batch goes out at the end and also before a fatal error (documents completed
// before it are not lost), and the rejects file is closed either way.
import type { BadRecords } from '../../src/runtime/rejects.ts';

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
