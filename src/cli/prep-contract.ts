// What `flowlm prep` asks of a data-preparation pipeline built from flags. src/ never imports
// pipelines/, so the builder (pipelines/prep-default.ts by default) is loaded by path at run time, the
// way the registry loads operators by id; this file is the contract both sides compile against.
import { existsSync } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';
import type { PipelineSpecInput } from '../graph/spec.ts';

export type ShardFormatName = 'ipc' | 'parquet';

/** The choices a prep run takes from the command line; anything absent takes the builder's default. */
export interface PrepOptions {
  /** files, globs or one http(s) URL; none: the embedded default corpus */
  inputs?: string[];
  /** output directory of shards and manifest.json */
  out?: string;
  encoding?: string;
  /** a tokenizer file (tokenizer.json, SentencePiece .model, .tiktoken) used instead of `encoding` */
  tokenizer?: string;
  seqLen?: number;
  /** worker threads for the parallel stages (tokenize) */
  workers?: number;
  /** ipc: packed rows (what readShards streams); parquet: one row of token ids per document */
  format?: ShardFormatName;
  /** exact dedup of documents before tokenizing */
  dedup?: boolean;
  /** near-dedup (MinHash-LSH, after exact dedup): documents whose estimated Jaccard similarity with an
   * earlier one reaches this threshold (0-1, exclusive) are dropped; absent: no near-dedup */
  nearDup?: number;
  /** target shard size in bytes */
  shardBytes?: number;
  /** eval tasks (names or task files) whose word 13-grams must not be in the training documents */
  decontaminate?: string[];
  /** drop (default): contaminated documents are removed; flag: kept, counted and reported */
  decontaminateMode?: 'drop' | 'flag';
  /** JSON report of the decontamination (contaminated eval items, training documents that hit them) */
  decontaminateReport?: string;
  /** a clustered run of another prep pipeline: the absolute path of a module exporting prepSpec(options)
   * (every process loads it; default: pipelines/prep-default.ts) */
  pipeline?: string;
  /** a clustered run: --set overrides applied to the built pipeline's nodes (node.key=value) */
  sets?: string[];
}

export type PrepBuilder = (options: PrepOptions) => PipelineSpecInput;

/** The default prep pipeline module: it exports `prepSpec(options)` and the default spec. */
export const PREP_PIPELINE = fileURLToPath(new URL('../../pipelines/prep-default.ts', import.meta.url));

/** The `prepSpec` builder exported by `file`. */
export async function loadPrepBuilder(file = PREP_PIPELINE): Promise<PrepBuilder> {
  if (!existsSync(file))
    throw new Error(`the prep pipeline ${file} is missing: the package is incomplete (reinstall it)`);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const build = mod.prepSpec;
  if (typeof build !== 'function') throw new Error(`${file} exports no prepSpec(options) function`);
  return build as PrepBuilder;
}
