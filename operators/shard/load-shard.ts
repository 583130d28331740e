// One shard in memory, checked before use: its bytes are read whole (shards are sized for that; the
// writer's shardBytes bounds it), their sha256 compared with the manifest's, and the record batches
// decoded as views into those bytes (IPC) or through parquet-wasm (Parquet).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { FlowError } from '../../src/core/errors.ts';
import type { ShardEntry, ShardKind } from './manifest.ts';

export class LoadedShard {
  /** first row of each batch, and the row count as a last entry */
  private readonly starts: number[];
  constructor(
    readonly index: number,
    readonly batches: RecordBatch[],
  ) {
    this.starts = [0];
    for (const b of batches) this.starts.push(this.starts.at(-1)! + b.numRows);
  }
  get rows(): number {
    return this.starts.at(-1)!;
  }

  /** The batch holding row `row` of the shard, and the row within it. */
  locate(row: number): readonly [RecordBatch, number] {
    let lo = 0,
      hi = this.batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    return [this.batches[lo]!, row - this.starts[lo]!];
  }
}

export async function loadShard(
  operator: string,
  dir: string,
  index: number,
  entry: ShardEntry,
  kind: ShardKind,
  verify: boolean,
): Promise<LoadedShard> {
  const path = join(dir, entry.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new FlowError(
      operator,
      `shard ${entry.file} listed in the manifest cannot be read (${(err as Error).message}); re-run the job that ` +
        `wrote ${dir}`,
      { file: path },
    );
  }
  if (verify) {
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== entry.bytes || sha !== entry.sha256)
      throw new FlowError(
        operator,
        `shard ${entry.file} failed its checksum: sha256 ${sha} (${bytes.length} bytes), the manifest says ` +
          `${entry.sha256} (${entry.bytes} bytes). ` +
          'The file was changed or damaged after it was written; re-run the job that wrote it (it rewrites shards ' +
          'that do not verify).',
        { file: path },
      );
  }
  let batches: RecordBatch[];
  try {
    batches =
      kind === 'ipc' ? tableFromIPC(bytes).batches : tableFromIPC(pw.readParquet(bytes).intoIPCStream()).batches;
  } catch (err) {
    throw new FlowError(
      operator,
      `shard ${entry.file} cannot be decoded as ${kind === 'ipc' ? 'Arrow IPC' : 'Parquet'} (${(err as Error).message})`,
      { file: path },
    );
  }
  const shard = new LoadedShard(index, batches);
  if (shard.rows !== entry.rows)
    throw new FlowError(operator, `shard ${entry.file} has ${shard.rows} rows, the manifest says ${entry.rows}`, {
      file: path,
    });
  return shard;
}
