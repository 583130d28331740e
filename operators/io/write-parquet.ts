// Parquet sink through parquet-wasm (src/runtime/parquet-writer.ts): batches stream into its writer,
// row group by row group, and the bytes go to a temporary file renamed into place on completion.
// Memory is bounded by one row group (rowGroupRows).
import { Schema, type RecordBatch, type TypeMap } from 'apache-arrow';
import { z } from 'zod';
import { defineSink } from '../../src/core/operator.ts';
import { FlowError } from '../../src/core/errors.ts';
import { openAtomic } from '../../src/runtime/files.ts';
import { ParquetWriter } from '../../src/runtime/parquet-writer.ts';
import { FirstSchema } from '../../src/schema/conform.ts';

const Config = z.object({
  path: z.string().min(1).describe('output file; written to a temporary file and renamed into place on completion'),
  compression: z
    .enum(['snappy', 'zstd', 'gzip', 'brotli', 'lz4', 'none'])
    .default('snappy')
    .describe('codec for every column (snappy: fast, read by every Parquet reader; zstd: smaller)'),
  rowGroupRows: z
    .number()
    .int()
    .min(1)
    .default(65_536)
    .describe('rows per row group; the writer holds one row group in memory'),
});

const msg = (err: unknown) => (err instanceof Error ? err.message : String(err));

export const writeParquet = defineSink({
  id: 'io/write-parquet',
  description: 'write batches to one Parquet file (parquet-wasm, atomically)',
  config: Config,
  input: () => new Schema<TypeMap>([]),
  make: (cfg, ctx) => {
    const file = openAtomic(cfg.path);
    const writer = new ParquetWriter(file, cfg);
    const schema = new FirstSchema();
    const fail = (failure: unknown) =>
      new FlowError(
        ctx.nodeId,
        `Parquet writer failed: ${msg(failure)}`,
        { file: cfg.path, batch: schema.count },
        { cause: failure },
      );
    const guarded = async (work: () => Promise<void>) => {
      try {
        await work();
      } catch (err) {
        throw err === writer.failure ? fail(err) : err;
      }
    };

    return {
      write: (batch: RecordBatch) =>
        guarded(async () => {
          await writer.write(
            schema.take(
              batch,
              (why, i) =>
                new FlowError(ctx.nodeId, `batch ${i} does not match the schema of the first batch: ${why}`, {
                  file: cfg.path,
                  batch: i,
                }),
            ),
          );
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
