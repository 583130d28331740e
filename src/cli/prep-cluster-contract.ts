// What `flowlm prep --cluster` and `flowlm worker` ask of the data side. src/ never imports pipelines/,
// so the module that plans, runs and merges work items (pipelines/prep-cluster.ts) is loaded by path at
// run time, as prep-contract.ts loads the prep builder; this file is the contract both sides compile against.
//
// The split that makes a clustered run byte-identical to a single-process one: a work item is a run of
// consecutive input files (in the order single-process prep reads them; small files grouped up to a
// target size, so per-item costs are spread over megabytes); a worker turns it into an item output (per
// document, in order: the exact-dedup key and the token ids), written atomically under a deterministic
// name; the coordinator's merge reads the item outputs in item order, drops exact duplicates (first
// occurrence wins, as in one process), packs and writes the shards with the same operators as prep.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PrepOptions } from './prep-contract.ts';

/** Work items of about this many input bytes by default: small files are grouped up to it (a larger file
 * is an item of its own). Fewer, larger items spread a worker's per-item costs (a pipeline run, two
 * fsyncs, three message round trips) over more text; more, smaller ones balance the workers better at
 * the end of a job. */
export const DEFAULT_ITEM_BYTES = 4 << 20;

/** One unit of work: consecutive input files of the job, with the job's prep options; or (kind 'dedup') one
 * partition of the job's exact dedup, run after every input item is done: then `index` is the partition,
 * `count` the partitions, `items` the job's input items and `path` a label. */
export interface WorkItem {
  /** absent: an input item (messages of older coordinators) */
  kind?: 'item' | 'dedup';
  /** kind 'dedup': the job's input items (their outputs are read in order 0..items-1) */
  items?: number;
  job: string;
  /** position in the job's ordered item list (0-based): the merge's order */
  index: number;
  /** items in the job */
  count: number;
  /** the item's first input file (absolute path, on storage every worker sees); a label for a dedup item */
  path: string;
  /** the item's input files in order, `path` first (absent: `path` alone) */
  paths?: string[];
  /** the job's prep options; `out` is the job's output directory, shared by every worker */
  options: PrepOptions;
}

/** A completed item's output, as written and verified. */
export interface ItemResult {
  index: number;
  /** the item output file (under options.out) */
  file: string;
  sha256: string;
  /** documents in the item output, before global dedup */
  docs: number;
  /** bytes of input text read */
  bytesIn: number;
  tokens: number;
  /** the file's mtime when its sha256 was checked (verifyItem): the merge hashes it again only when it has
   * changed since */
  verifiedMtimeMs?: number;
}

export interface MergeFigures {
  docs: number;
  duplicates: number;
  /** near duplicates dropped (a job with --near-dup) */
  nearDuplicates?: number;
  tokens: number;
  rows: number;
  shards: number;
  /** the manifest written (options.out/manifest.json) */
  manifest: string;
}

export interface PrepClusterModule {
  /** the job's work items, each its input files, in the order single-process prep reads them; consecutive
   * small files share an item up to `itemBytes` (default DEFAULT_ITEM_BYTES) where the reader allows it */
  planItems(options: PrepOptions, itemBytes?: number): Promise<string[][]>;
  /** throws ClusterJobError when the job's dedup cannot be split into `partitions` with one process's result
   * (a dedup that forgets: onFull 'evict') */
  checkPartitions?(options: PrepOptions, partitions: number): Promise<void>;
  /** the item's output when it exists and verifies (sha256, completion record); else null */
  verifyItem(item: WorkItem): Promise<ItemResult | null>;
  /** runs the item (skipping it when verifyItem finds it done); the output is durable when it resolves */
  runItem(item: WorkItem, signal?: AbortSignal): Promise<ItemResult>;
  /** merges the verified item outputs (every index 0..count-1) into shards and manifest.json; with
   * `partitions` (every dedup partition's result) the duplicates they found are dropped and no global key
   * set is held; `plan`: the items' input files as published (default: planItems(options)) */
  mergeItems(
    options: PrepOptions,
    items: ItemResult[],
    partitions?: ItemResult[],
    plan?: string[][],
  ): Promise<MergeFigures>;
  /** the merge run while the items are made (a job without dedup partitions): reads item `i` once its
   * output is complete and verifies; `signal` stops it; once the file `settled` exists (every item reported
   * done) an item still missing fails it. Same bytes as mergeItems after every item */
  mergeFollowing?(
    options: PrepOptions,
    plan: string[][],
    job: string,
    signal: AbortSignal,
    settled: string,
  ): Promise<MergeFigures>;
  /** a dedup partition's drops when they exist and match the item outputs; else null. The result's `file`
   * is the drops file, `docs` the duplicates found; bytesIn and tokens are 0 */
  verifyDedupPartition?(item: WorkItem): Promise<ItemResult | null>;
  /** runs a dedup partition (skipped when verifyDedupPartition finds it done); durable when it resolves */
  runDedupPartition?(item: WorkItem, signal?: AbortSignal): Promise<ItemResult>;
}

/** The job cannot run as asked (a step that cannot be split, a conflicting setting): the command exits 2
 * with the message, as for bad usage. */
export class ClusterJobError extends Error {}

/** A work item's input files. */
export const itemPaths = (item: WorkItem): string[] => item.paths ?? [item.path];

export const PREP_CLUSTER_MODULE = fileURLToPath(new URL('../../pipelines/prep-cluster.ts', import.meta.url));

export async function loadPrepCluster(file = PREP_CLUSTER_MODULE): Promise<PrepClusterModule> {
  if (!existsSync(file))
    throw new Error(`the clustered prep module ${file} is missing: the package is incomplete (reinstall it)`);
  const mod = (await import(pathToFileURL(file).href)) as Partial<PrepClusterModule>;
  for (const name of ['planItems', 'verifyItem', 'runItem', 'mergeItems'] as const)
    if (typeof mod[name] !== 'function') throw new Error(`${file} exports no ${name} function`);
  return mod as PrepClusterModule;
}
