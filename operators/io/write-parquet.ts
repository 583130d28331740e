// Parquet sink through parquet-wasm (src/runtime/parquet-writer.ts): batches stream into its writer,
// row group by row group, and the bytes go to a temporary file renamed into place on completion.
// Memory is bounded by one row group (rowGroupRows).
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Schema, type RecordBatch, type TypeMap } from 'apache-arrow';
import { z } from 'zod';
import { defineSink } from '../../src/core/operator.ts';
import { FlowError } from '../../src/core/errors.ts';
import { AtomicFile } from '../../src/runtime/files.ts';
import { ParquetWriter } from '../../src/runtime/parquet-writer.ts';
import { conformBatch } from '../../src/schema/conform.ts';

const Config = z.object({
  path: z.string().min(1),
  compression: z.enum(['snappy', 'zstd', 'gzip', 'brotli', 'lz4', 'none']).default('snappy').describe('codec for every column (snappy: fast, read by every Parquet reader; zstd: smaller)'),
  rowGroupRows: z.number().int().min(1).default(65_536).describe('rows per row group; the writer holds one row group in memory'),
});

const msg = (err: unknown) => (err instanceof Error ? err.message : String(err));

export const writeParquet = defineSink({
  id: 'io/write-parquet',
  description: 'write batches to one Parquet file (parquet-wasm, atomically)',
  config: Config,
  input: () => new Schema<TypeMap>([]),
  make: (cfg, ctx) => {
    const path = resolve(cfg.path);
    mkdirSync(dirname(path), { recursive: true });
    const file = new AtomicFile(path);
    const writer = new ParquetWriter(file, cfg);
    let schema: Schema | undefined;
    let batches = 0;
    const fail = (failure: unknown) => new FlowError(ctx.nodeId, `Parquet writer failed: ${msg(failure)}`, { file: cfg.path, batch: batches }, { cause: failure });
    const guarded = async (work: () => Promise<void>) => { try { await work(); } catch (err) { throw err === writer.failure ? fail(err) : err; } };

    return {
      write: (batch: RecordBatch) => guarded(async () => {
        schema ??= batch.schema;
        const same = conformBatch(batch, schema);
        if (typeof same === 'string') throw new FlowError(ctx.nodeId, `batch ${batches} does not match the schema of the first batch: ${same}`, { file: cfg.path, batch: batches });
        await writer.write(same);
        batches++;
      }),
      close: async (outcome) => {
        if (outcome === 'cancelled' || !writer.started) {
          // no batch, no schema: a Parquet file cannot be written without one, so none is
          if (!writer.started && outcome === 'complete') ctx.log(`no rows: ${cfg.path} not written`);
          await writer.abort();
          await file.abort();
          return [];
        }
        await guarded(() => writer.finish());
        return [await file.commit()];
      },
      abort: async (err) => {
        await writer.abort(err);
        await file.abort();
      },
    };
  },
});
