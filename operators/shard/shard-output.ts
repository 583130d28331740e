// One shard being produced: batches encoded as Arrow IPC (file format) or Parquet, hashed as the bytes
// go by. Either the bytes go to a temporary file renamed into place by `finish`, or (`verifyOnly`, for
// a shard an earlier run completed) they go nowhere and only the hash is kept, so the caller can check
// that this run's input encodes to exactly the shard already on disk without writing it again.
import { createHash } from 'node:crypto';
import type { RecordBatch } from 'apache-arrow';
import { AtomicFile } from '../../src/runtime/files.ts';
import { IpcWriter, type ByteSink } from '../../src/runtime/ipc-writer.ts';
import { ParquetWriter, type ParquetCodec } from '../../src/runtime/parquet-writer.ts';
import { objectList } from '../../src/runtime/object-list.ts';
import type { ShardKind } from './manifest.ts';

export interface ShardFormat {
  kind: ShardKind;
  compression: ParquetCodec;
  rowGroupRows: number;
}

// Arrow hands over each message in several small chunks (metadata, padding, body buffers); they are
// gathered into writes of about this size (one writev call, no copy)
const WRITE_BYTES = 1 << 20;

class HashingSink implements ByteSink {
  readonly hash = createHash('sha256');
  bytes = 0;
  private pending = objectList<Uint8Array>();
  private pendingBytes = 0;
  constructor(private readonly file?: AtomicFile) {}
  async write(data: Uint8Array): Promise<void> {
    this.hash.update(data);
    this.bytes += data.byteLength;
    if (!this.file) return;
    this.pending.push(data); // Arrow hands over fresh chunks and views of batches no one writes to
    this.pendingBytes += data.byteLength;
    // the first bytes go at once: the shard in progress shows as its temporary file from the start
    if (this.pendingBytes >= WRITE_BYTES || this.file.bytes === 0) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = objectList();
    this.pendingBytes = 0;
    await this.file?.write(chunks);
  }
}

export class ShardOutput {
  rows = 0;
  tokens = 0;
  /** estimated encoded size (input bytes per row times rows): what shardBytes rotates on */
  estimatedBytes = 0;
  private readonly file?: AtomicFile;
  private readonly sink: HashingSink;
  private readonly writer: IpcWriter | ParquetWriter;

  constructor(
    readonly index: number,
    readonly firstRow: number,
    readonly path: string,
    format: ShardFormat,
    readonly verifyOnly: boolean,
  ) {
    this.file = verifyOnly ? undefined : new AtomicFile(path);
    this.sink = new HashingSink(this.file);
    this.writer = format.kind === 'ipc' ? new IpcWriter(this.sink, 'file') : new ParquetWriter(this.sink, format);
  }

  async write(batch: RecordBatch, tokens: number, estimatedBytes: number): Promise<void> {
    await this.writer.write(batch);
    this.rows += batch.numRows;
    this.tokens += tokens;
    this.estimatedBytes += estimatedBytes;
  }

  /** Completes the bytes; returns their sha256 and size. `sync`, then `publish`, put them in place. */
  async finish(): Promise<{ sha256: string; bytes: number }> {
    await this.writer.finish();
    await this.sink.flush();
    return { sha256: this.sink.hash.digest('hex'), bytes: this.sink.bytes };
  }

  /** The completed bytes on disk under the temporary name (nothing to do when verifyOnly). */
  async sync(): Promise<void> {
    await this.file?.prepare();
  }

  /** The synced shard renamed into place. */
  async publish(): Promise<void> {
    await this.file?.publish();
  }

  async abort(): Promise<void> {
    if (this.writer instanceof IpcWriter) this.writer.abort();
    else await this.writer.abort();
    await this.file?.abort();
  }
}
