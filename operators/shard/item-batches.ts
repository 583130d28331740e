// An item output's batches for the merge (read-items.ts): in follow mode, waiting until the item's
// completion record names its inputs and settings, then verifying its sha256. Item outputs up to 64 MiB
// are read in one call, hashed and parsed from memory: one pass over their bytes instead of a hash pass
// and a read pass of many small reads; larger ones (an item of one huge file) are hashed, then streamed,
// so memory stays bounded.
import { existsSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  RecordBatchReader,
  type AsyncRecordBatchFileReader,
  type RecordBatch,
  type RecordBatchFileReader,
} from 'apache-arrow';
import { FlowError } from '../../src/core/errors.ts';
import { checkItem, hashedBefore, noteHashed } from './item-output.ts';
import { sha256Hex } from './manifest.ts';

/** read-items' follow settings: the inputs and settings hash each item's record must name. */
export interface Follow {
  inputs: string[][];
  configHash: string;
  pollMs: number;
  settled?: string;
}

const IN_MEMORY_BYTES = 64 << 20;

/** Waits until item `index`'s output is complete and verifies (follow mode): its verified bytes when
 * small, undefined when it verified on disk (stream it), false when cancelled. */
export async function awaitItem(
  file: string,
  index: number,
  follow: Follow,
  ctx: { nodeId: string; signal: AbortSignal },
): Promise<Uint8Array | undefined | false> {
  const expect = { index, inputs: follow.inputs[index]!, configHash: follow.configHash };
  for (;;) {
    if (ctx.signal.aborted) return false;
    // cheap while the record is missing or of another run; hashed once it is this item's
    const rec = await checkItem(dirname(file), expect, { hash: false });
    if (typeof rec !== 'string') {
      if (rec.bytes <= IN_MEMORY_BYTES) {
        const bytes = await readVerified(file, rec.sha256);
        if (bytes) return bytes;
      }
      const full = await checkItem(dirname(file), expect);
      if (typeof full === 'string')
        throw new FlowError(ctx.nodeId, `item ${index} does not verify: ${full}; run it again`, { file });
      return undefined;
    }
    if (follow.settled && existsSync(follow.settled))
      throw new FlowError(ctx.nodeId, `item ${index} is not complete (${rec}) though every item was reported done`, {
        file,
      });
    await new Promise((r) => setTimeout(r, follow.pollMs));
  }
}

/** The file's bytes when they hash to `sha256` (or this process hashed the same file before: item-output.ts),
 * else undefined. Read through one handle, so the stats and the bytes are of the same file. */
async function readVerified(file: string, sha256: string): Promise<Uint8Array | undefined> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const stats = await handle.stat();
    const bytes = await handle.readFile();
    if (bytes.length !== stats.size) return undefined; // changed while read: the full check decides
    if (hashedBefore(file, stats, sha256)) return bytes;
    if (sha256Hex(bytes) !== sha256) return undefined;
    noteHashed(file, stats, sha256);
    return bytes;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

/** An item file's batches: parsed from `bytes` when given (or read whole when small), else streamed. */
export async function* itemBatches(
  file: string,
  bytes: Uint8Array | undefined,
  nodeId: string,
): AsyncGenerator<RecordBatch> {
  const unreadable = (err: unknown) =>
    new FlowError(nodeId, `cannot read item output (${(err as Error).message}); run the item again`, { file });
  if (!bytes && statSync(file).size <= IN_MEMORY_BYTES) bytes = await readFile(file);
  if (bytes) {
    let reader: RecordBatchFileReader;
    try {
      reader = RecordBatchReader.from(bytes) as RecordBatchFileReader;
      reader.open();
    } catch (err) {
      throw unreadable(err);
    }
    yield* reader;
    return;
  }
  let reader: AsyncRecordBatchFileReader | undefined;
  const handle = await open(file, 'r');
  try {
    try {
      reader = (await RecordBatchReader.from(handle)) as AsyncRecordBatchFileReader;
      await reader.open();
    } catch (err) {
      throw unreadable(err);
    }
    yield* reader;
  } finally {
    await reader?.cancel().catch(() => undefined);
    await handle.close();
  }
}
