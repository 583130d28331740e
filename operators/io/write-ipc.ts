// Arrow IPC sink: the file format (random access, footer) or the stream format, written batch by batch
// to a temporary file renamed into place on completion. Every batch is given the first batch's schema
// (Arrow's writer would silently end the output at a schema change); in the file format dictionary
// columns are unified across batches (it allows dictionary deltas only) and the schema message is
// written after the magic too, so a truncated file stays readable up to the cut.
import { Schema, type RecordBatch, type TypeMap } from 'apache-arrow';
import { z } from 'zod';
import { defineSink } from '../../src/core/operator.ts';
import { FlowError } from '../../src/core/errors.ts';
import { openAtomic } from '../../src/runtime/files.ts';
import { IpcWriter } from '../../src/runtime/ipc-writer.ts';
import { FirstSchema } from '../../src/schema/conform.ts';

const Config = z.object({
  path: z.string().min(1).describe('output file; written to a temporary file and renamed into place on completion'),
  format: z
    .enum(['file', 'stream'])
    .default('file')
    .describe(
      '"file": Arrow IPC file (footer, random access; dictionary columns keep one growing dictionary each, so their ' +
        'distinct ' +
        'values stay in memory); "stream": Arrow IPC stream (each batch may replace dictionaries)',
    ),
});

export const writeIpc = defineSink({
  id: 'io/write-ipc',
  description: 'write batches to one Arrow IPC file or stream (atomically)',
  config: Config,
  input: () => new Schema<TypeMap>([]),
  make: (cfg, ctx) => {
    const file = openAtomic(cfg.path);
    const writer = new IpcWriter(file, cfg.format);
    const schema = new FirstSchema();
    return {
      write: async (batch: RecordBatch) => {
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
      },
      close: async (outcome) => {
        if (outcome === 'cancelled') {
          writer.abort();
          await file.abort();
          return [];
        }
        // no batch: an IPC output still needs a schema, and none is known; write an empty schema
        await writer.finish();
        return [await file.commit()];
      },
      abort: async () => {
        writer.abort();
        await file.abort();
      },
    };
  },
});
