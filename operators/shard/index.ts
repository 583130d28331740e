// Shard stage: writeShards (rows to IPC/Parquet shards plus manifest.json, atomic, deterministic,
// re-runs keep verified shards) and the streaming dataset that reads them back (readShards as a
// source, ShardDataset for training loops), resumable by a world-size-independent cursor.
export { writeShards, DEFAULT_SHARD_BYTES, type WriteShardsConfig } from './write-shards.ts';
export { readShards } from './read-shards.ts';
export { ShardDataset, type DatasetOptions, type DatasetBatch } from './dataset.ts';
export { DatasetCursor, batchCursor, withCursor, CURSOR_KEY } from './cursor.ts';
export { Manifest, DoneRecord, MANIFEST, readManifest, schemaFromManifest, type ShardEntry } from './manifest.ts';
