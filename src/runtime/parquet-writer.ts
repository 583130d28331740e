// Parquet bytes for a sequence of batches through parquet-wasm: batches stream into its writer, which
// emits each row group as soon as it is full, and the bytes go to a byte sink. Memory is bounded by one
// row group (rowGroupRows). Dictionary columns are stored as dictionary-encoded strings with the Arrow
// schema in the file's metadata, so parquet-wasm reads them back as Dictionary<Utf8> and other readers
// (hyparquet, pyarrow) as strings. Shared by io/write-parquet and shard/write-shards.
import { Table, tableToIPC, type RecordBatch } from 'apache-arrow';
import { createRequire } from 'node:module';
import type * as ParquetWasm from 'parquet-wasm';
import type { ByteSink } from './ipc-writer.ts';

// parquet-wasm (and its WebAssembly) loads when a Parquet file is written, not with every module that
// links a writer that could write one (shard output, the cluster's item outputs)
let pwModule: typeof ParquetWasm | undefined;
const parquetWasm = (): typeof ParquetWasm =>
  (pwModule ??= createRequire(import.meta.url)('parquet-wasm') as typeof ParquetWasm);

/** flowlm's codec names and parquet-wasm's Compression members */
export const PARQUET_CODECS = {
  none: 'UNCOMPRESSED',
  snappy: 'SNAPPY',
  zstd: 'ZSTD',
  gzip: 'GZIP',
  brotli: 'BROTLI',
  lz4: 'LZ4_RAW',
} as const satisfies Record<string, keyof typeof ParquetWasm.Compression>;
export type ParquetCodec = keyof typeof PARQUET_CODECS;

export interface ParquetWriterOptions {
  compression: ParquetCodec;
  rowGroupRows: number;
}

export class ParquetWriter {
  /** set when parquet-wasm failed; `write` and `finish` throw it */
  failure: unknown;
  private input?: ReadableStreamDefaultController<ParquetWasm.RecordBatch>;
  private pump?: Promise<void>;
  private pulled?: () => void; // resolves when the writer wants the next batch

  constructor(
    private readonly sink: ByteSink,
    private readonly opts: ParquetWriterOptions,
  ) {}

  /** True once a batch was written (a Parquet file cannot be written without a schema). */
  get started(): boolean {
    return this.pump !== undefined;
  }

  /** Every batch written must have the first batch's schema (see conformBatch). */
  async write(batch: RecordBatch): Promise<void> {
    this.check();
    if (!this.pump) this.start();
    const table = parquetWasm().Table.fromIPCStream(tableToIPC(new Table([batch]), 'stream'));
    const wasmBatch = table.recordBatch(0);
    table.free();
    if (wasmBatch) {
      const wanted = new Promise<void>((r) => {
        this.pulled = r;
      });
      this.input!.enqueue(wasmBatch);
      if ((this.input!.desiredSize ?? 0) <= 0) await wanted; // backpressure: wait until the writer took it
    }
    this.check();
  }

  /** Writes the footer; the sink has every byte when this resolves. */
  async finish(): Promise<void> {
    if (!this.pump) throw new Error('no batch was written: a Parquet file needs at least one (for its schema)');
    this.input!.close();
    await this.pump;
    this.check();
  }

  async abort(err: unknown = new Error('cancelled')): Promise<void> {
    this.input?.error(err instanceof Error ? err : new Error(String(err)));
    await this.pump;
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private wake(): void {
    const p = this.pulled;
    this.pulled = undefined;
    p?.();
  }

  private start(): void {
    const pw = parquetWasm();
    const stream = new ReadableStream<ParquetWasm.RecordBatch>(
      {
        start: (c) => {
          this.input = c;
        },
        pull: () => this.wake(),
      },
      { highWaterMark: 1 },
    );
    const props = new pw.WriterPropertiesBuilder()
      .setCompression(pw.Compression[PARQUET_CODECS[this.opts.compression]])
      .setMaxRowGroupSize(this.opts.rowGroupRows)
      .build();
    this.pump = (async () => {
      const out = await pw.transformParquetStream(stream, props);
      for await (const chunk of out as AsyncIterable<Uint8Array>) await this.sink.write(chunk);
    })().catch((err: unknown) => {
      this.failure = err ?? new Error('Parquet writer failed');
      this.wake();
    });
  }
}
