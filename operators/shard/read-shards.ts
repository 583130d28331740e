// The streaming dataset as a source: a shard directory written by writeShards, read by one rank of
// `worldSize` in the global order of (seed, epoch), each shard's sha256 checked before use. Each batch
// carries, in its schema metadata, the cursor after it (`batchCursor(batch)`); pass one back as
// `cursor` to resume exactly there, at the same or another world size. Training loops can use the
// ShardDataset class (dataset.ts) directly.
import type { RecordBatch, TypeMap } from 'apache-arrow';
import { z } from 'zod';
import { defineSource } from '../../src/core/operator.ts';
import { DatasetCursor, withCursor } from './cursor.ts';
import { ShardDataset } from './dataset.ts';
import { readManifest, schemaFromManifest } from './manifest.ts';

const ID = 'shard/read-shards';

const Config = z
  .object({
    dir: z.string().min(1).describe('a directory written by shard/write-shards (holding manifest.json)'),
    batchRows: z
      .number()
      .int()
      .min(1)
      .describe('rows per batch on this rank (the micro-batch); one global step is worldSize x batchRows samples'),
    seed: z
      .number()
      .int()
      .default(0)
      .describe('the order: a seeded permutation of shards, then of rows within each shard, per epoch'),
    shuffle: z.boolean().default(true).describe('false: manifest order every epoch'),
    epochs: z.number().int().min(1).default(1).describe('the stream ends after epoch epochs-1, wherever it started'),
    rank: z.number().int().min(0).default(0).describe("this reader's rank, in [0, worldSize)"),
    worldSize: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe('ranks reading the dataset together; rank r takes global positions r, r + worldSize, ... of each step'),
    cursor: DatasetCursor.optional().describe(
      'start here (a cursor saved from an earlier run, at any world size); default: the start of epoch 0',
    ),
    verify: z.boolean().default(true).describe("check each shard's sha256 against the manifest before using it"),
  })
  .refine((c) => c.rank < c.worldSize, { message: 'rank must be less than worldSize', path: ['rank'] });

export const readShards = defineSource({
  id: ID,
  description: 'stream samples from a shard directory in a seeded global order, split by rank, resumable by cursor',
  config: Config,
  output: (cfg) => schemaFromManifest(readManifest(cfg.dir, ID)),
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<TypeMap>> {
    const { dir, cursor: start, batchRows, seed, shuffle, epochs, rank, worldSize, verify } = cfg;
    const dataset = new ShardDataset(dir, { batchRows, seed, shuffle, epochs, rank, worldSize, verify }, ctx.nodeId);
    for await (const { batch, cursor } of dataset.iterate(start)) {
      if (ctx.signal.aborted) return;
      yield withCursor(batch, cursor);
    }
  },
});
