// The config of shard/write-shards: where shards go, their format and size, what the manifest records.
import { z } from 'zod';

export const ID = 'shard/write-shards';
export const DEFAULT_SHARD_BYTES = 64 * 1024 * 1024;

export const WriteShardsConfigSchema = z.object({
  dir: z.string().min(1).describe('output directory (created): the shards, their .done.json records and manifest.json'),
  format: z
    .enum(['ipc', 'parquet'])
    .default('ipc')
    .describe(
      '"ipc": Arrow IPC files (packed rows; what readShards streams); "parquet": Parquet (document or token tables)',
    ),
  shardRows: z.number().int().min(1).optional().describe('rows per shard (the last has the rest)'),
  shardBytes: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      `target shard size in bytes, estimated from the input's in-memory size (default ${DEFAULT_SHARD_BYTES} when ` +
        `shardRows is not given; with both, whichever is reached first). It bounds the memory readShards needs.`,
    ),
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_]+$/, 'letters, digits and _ only')
    .default('shard')
    .describe('shard file names: <prefix>-00000.arrow, ...'),
  encoding: z.string().min(1).optional().describe('tokenizer encoding of the token ids (recorded in the manifest)'),
  seqLen: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      'packed sequence length (input_ids rows hold seqLen+1 tokens); checked against the input, taken from it when ' +
        'not given',
    ),
  tokenColumn: z
    .string()
    .min(1)
    .optional()
    .describe('column whose tokens are counted (default: input_ids, else tokens)'),
  meta: z
    .record(z.string(), z.unknown())
    .default({})
    .describe(
      'anything else to record in the manifest (tokenizer settings, the prep config...); part of the config hash',
    ),
  compression: z.enum(['snappy', 'zstd', 'gzip', 'brotli', 'lz4', 'none']).default('snappy').describe('Parquet codec'),
  rowGroupRows: z.number().int().min(1).default(65_536).describe('Parquet rows per row group'),
});
export type WriteShardsConfig = z.input<typeof WriteShardsConfigSchema>;
