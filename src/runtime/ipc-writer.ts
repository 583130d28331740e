// Arrow IPC bytes for a sequence of batches, handed to a byte sink as they are produced (so one file
// never has to sit in memory). Shared by io/write-ipc and shard/write-shards. In the file format the
// schema message is also written after the magic, so a file cut short before its footer can still be
// read front to back up to the cut, and dictionary columns are unified across batches (the file format
// allows dictionary deltas only).
import {
  Message,
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  RecordBatchWriter,
  Schema,
  type RecordBatch,
  type TypeMap,
} from 'apache-arrow';
import { DictionaryUnifier } from '../schema/unify-dictionaries.ts';

/** Where the bytes go (an AtomicFile, a hash, a buffer...). */
export interface ByteSink {
  write(data: Uint8Array): Promise<void>;
}

/** Arrow JS leaves the schema message out of the file format (the footer has the schema too). */
class FileWriter<T extends TypeMap> extends RecordBatchFileWriter<T> {
  protected override _writeSchema(schema: Schema<T>): this {
    super._writeSchema(schema);
    return this._writeMessage(Message.from(schema));
  }
}

/** Chunks Arrow's writer holds in its byte queue (internal; 0 if that ever changes, which only delays
 * the bytes to close). */
function queuedChunks(writer: object): number {
  const values = (writer as { _sink?: { _values?: unknown } })._sink?._values;
  return Array.isArray(values) ? values.length : 0;
}

export class IpcWriter {
  private readonly writer: RecordBatchWriter;
  private readonly unifier?: DictionaryUnifier;
  private readonly out: AsyncIterator<Uint8Array>;
  private started = false;

  /** Every batch written must have one schema object (see conformBatch): Arrow's writer silently ends
   * the output at a schema change. */
  constructor(
    private readonly sink: ByteSink,
    format: 'file' | 'stream' = 'file',
  ) {
    this.writer = format === 'file' ? new FileWriter() : new RecordBatchStreamWriter();
    this.unifier = format === 'file' ? new DictionaryUnifier() : undefined;
    this.out = this.writer[Symbol.asyncIterator]();
  }

  async write(batch: RecordBatch): Promise<void> {
    this.started = true;
    this.writer.write(this.unifier ? this.unifier.unify(batch) : batch);
    await this.drain('queued');
  }

  /** Footer and end-of-stream; with no batch written, `schema` (default: none) is the output's. */
  async finish(schema = new Schema([])): Promise<void> {
    if (!this.started) this.writer.reset(undefined, schema);
    this.writer.finish();
    this.writer.close();
    await this.drain('end');
  }

  abort(): void {
    this.writer.abort();
  }

  // The writer queues the bytes of each write; they go to the sink before the next batch is taken.
  private async drain(until: 'queued' | 'end'): Promise<void> {
    for (;;) {
      if (until === 'queued' && queuedChunks(this.writer) === 0) return;
      const r = await this.out.next();
      if (r.done) return;
      await this.sink.write(r.value);
    }
  }
}
