// The data side of `flowlm prep --cluster` (src/cli/prep-cluster-contract.ts): single-process prep
// (prep-default.ts) cut into work items (runs of consecutive input files, small ones grouped up to
// --item-bytes: prep-cluster-read.ts) that any process can run in any order,
// and a merge that gives the same shards and manifest, byte for byte. Every step is taken from
// prepSpec(options) itself (prep-cluster-stages.ts), so reader, tokenizer, packing and writer configs
// cannot drift apart (dedup partitions: prep-cluster-dedup.ts):
//   item:  that spec's reader on the item's files -> (--near-dup: its MinHash signature step) -> its tokenize
//          (text kept) -> shard/write-item (per document the exact-dedup key, the reader's batch weight, id,
//          url, source, tokens, the signature; atomic, verified)
//   merge: shard/read-items (item order, exact dedup across all items, first occurrence wins, then the
//          near-dedup filter's LSH index over the signatures, the reader's batches replayed) -> that spec's
//          pack and write steps.
// Decontamination keeps one index over all documents on one thread: not split here.
import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  DEFAULT_ITEM_BYTES,
  itemPaths,
  type ItemResult,
  type MergeFigures,
  type PrepClusterModule,
  type WorkItem,
} from '../src/cli/prep-cluster-contract.ts';
import type { PrepOptions } from '../src/cli/prep-contract.ts';
import { runPipeline } from '../src/runtime/run.ts';
import { WorkerPool } from '../src/runtime/worker-pool.ts';
import { inputKind } from '../operators/ingest/input-kind.ts';
import { readFiles } from '../operators/ingest/read-files.ts';
import { checkItem, itemDir, itemFile, readItemRecord } from '../operators/shard/item-output.ts';
import { checkDedupPartition } from '../operators/shard/dedup-partition.ts';
import { MANIFEST, readManifest } from '../operators/shard/manifest.ts';
import { readItems } from '../operators/shard/read-items.ts';
import { writeItem } from '../operators/shard/write-item.ts';
import { configHash, pick, stagesOf } from './prep-cluster-stages.ts';
import { checkNear, checkPartitions, runDedupPartition, verifyDedupPartition } from './prep-cluster-dedup.ts';
import { groupItems, itemFiles, layoutOf, weightsOfAll, type Step } from './prep-cluster-read.ts';

export async function planItems(options: PrepOptions, itemBytes = DEFAULT_ITEM_BYTES): Promise<string[][]> {
  if (!Number.isSafeInteger(itemBytes) || itemBytes < 1)
    throw new Error(`prep --cluster: the item size must be a whole number of bytes >= 1, not ${itemBytes}`);
  const read = (await stagesOf(options)).read[0]!;
  return groupItems(read, await itemFiles(read), itemBytes);
}

const resultOf = (
  dir: string,
  rec: { index: number; sha256: string; docs: number; bytesIn: number; tokens: number },
  verifiedMtimeMs?: number,
) =>
  ({
    index: rec.index,
    file: resolve(dir, itemFile(rec.index)),
    sha256: rec.sha256,
    docs: rec.docs,
    bytesIn: rec.bytesIn,
    tokens: rec.tokens,
    ...(verifiedMtimeMs !== undefined ? { verifiedMtimeMs } : {}),
  }) satisfies ItemResult;

const mtimeOf = (file: string): number | undefined => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
};

export async function verifyItem(item: WorkItem): Promise<ItemResult | null> {
  const s = await stagesOf(item.options);
  const dir = itemDir(s.out, item.job);
  // taken before hashing: a file replaced after it has another mtime, so the merge hashes it again
  const mtime = mtimeOf(join(dir, itemFile(item.index)));
  const rec = await checkItem(dir, { index: item.index, inputs: itemPaths(item), configHash: configHash(s) });
  return typeof rec === 'string' ? null : resultOf(dir, rec, mtime);
}

// One worker pool for every item this process runs: a pool per item started threads and loaded the
// tokenizer in each for every file. Idle threads do not keep the process alive.
let pool: WorkerPool | undefined;
const poolFor = (options: PrepOptions): { pool?: WorkerPool } => {
  if (options.workers === 0) return {}; // everything on this thread
  const size = options.workers ?? availableParallelism();
  if (pool?.size !== size) {
    void pool?.close();
    pool = new WorkerPool({ size });
  }
  return { pool };
};

export async function runItem(item: WorkItem, signal?: AbortSignal): Promise<ItemResult> {
  const done = await verifyItem(item);
  if (done) return done;
  const s = await stagesOf(item.options);
  const dir = itemDir(s.out, item.job);
  const [first, ...rest] = s.read;
  const paths = itemPaths(item);
  const read: Step[] = [{ ...first!, config: { ...(first!.config as object), paths } }, ...rest];
  const weights = await weightsOfAll(first!, paths);
  const r = await runPipeline(
    {
      name: `prep-item-${item.index}`,
      budget: { maxInFlight: 8 },
      steps: [
        ...read,
        ...(s.signature ? [s.signature] : []),
        // the worker's tokenizer keeps its piece cache from item to item: a new one costs ~5% more tokenizing
        { ...s.tokenize, config: { ...(s.tokenize.config as object), keepText: true, reuse: 'thread' } },
        {
          id: 'item',
          op: writeItem,
          config: {
            dir,
            index: item.index,
            inputs: paths,
            configHash: configHash(s),
            ids: s.ids,
            ...(weights ? { weights } : {}),
            ...pick(s.dedupCfg),
            ...(s.near ? { numPerm: s.near.numPerm } : {}),
          },
        },
      ],
    },
    { ...poolFor(item.options), ...(signal ? { signal } : {}) },
  );
  if (!r.ok)
    throw new Error(
      `work item ${item.index} (${item.path}) failed${r.error?.operator ? ` in ${r.error.operator}` : ''}: ` +
        `${r.error?.message ?? (r.cancelled ? 'cancelled' : 'unknown error')}`,
    );
  // written and hashed just now (write-item): its record and size, not its bytes again
  const rec = await checkItem(dir, { index: item.index, inputs: paths, configHash: configHash(s) }, { hash: false });
  if (typeof rec === 'string')
    throw new Error(`work item ${item.index} (${item.path}): output does not verify: ${rec}`);
  return resultOf(dir, rec);
}

export async function mergeItems(
  options: PrepOptions,
  items: ItemResult[],
  partitions?: ItemResult[],
  plan?: string[][],
): Promise<MergeFigures> {
  const s = await stagesOf(options);
  const byIndex = new Map(items.map((i) => [i.index, i]));
  const count = Math.max(0, ...items.map((i) => i.index + 1));
  // each item's input files: as published, else as planned now with the default item size
  const inputs = plan ?? (await planItems(options));
  if (count > inputs.length) throw new Error(`merge: item ${count - 1} given but the job has ${inputs.length} items`);
  // every item of the job, each complete and verifying now (not only when it was reported)
  const bad: string[] = [];
  for (let index = 0; index < inputs.length; index++) {
    const given = byIndex.get(index);
    if (!given) {
      bad.push(`${index} (not given)`);
      continue;
    }
    // a file hashed when it was reported and not replaced since (same mtime) is checked by record and size
    const same = given.verifiedMtimeMs !== undefined && mtimeOf(given.file) === given.verifiedMtimeMs;
    const expect = { index, inputs: inputs[index]!, configHash: configHash(s) };
    const rec = await checkItem(dirname(given.file), expect, { hash: !same });
    if (typeof rec === 'string') bad.push(`${index} (${rec})`);
    else if (rec.sha256 !== given.sha256) bad.push(`${index} (rewritten since it was reported)`);
  }
  if (bad.length > 0)
    throw new Error(
      `cannot merge: ${bad.length} of ${inputs.length} work item(s) missing or incomplete: ${bad.slice(0, 20).join(', ')}` +
        `${bad.length > 20 ? ', ...' : ''}; run them (again) first`,
    );
  const drops: string[] = [];
  const pairs: string[] = [];
  if (partitions?.length) {
    const shas = inputs.map((_, i) => byIndex.get(i)!.sha256);
    const dir = dirname(byIndex.get(0)!.file);
    const P = partitions.length;
    for (let p = 0; p < P; p++) {
      const rec = await checkDedupPartition(dir, { partition: p, partitions: P, shas });
      if (typeof rec === 'string')
        throw new Error(`cannot merge: dedup partition ${p} of ${P}: ${rec}; run it (again)`);
      if (s.dedup) drops.push(resolve(dir, rec.file));
      const near = await checkNear(options, dir, { partition: p, partitions: P, shas });
      if (near && 'why' in near)
        throw new Error(
          `cannot merge: near-dedup partition ${p} of ${P}: ${near.why}; run dedup partition ${p} (again)`,
        );
      if (near) pairs.push(near.file);
    }
  }
  const files = inputs.map((_, i) => byIndex.get(i)!.file);
  const figures = await merge(options, inputs, files, drops, pairs);
  return { docs: items.reduce((n, i) => n + i.docs, 0), ...figures };
}

/** The merge run while the items are being made (no dedup partitions): each item is read once its output
 * is complete and verifies, so at the job's end only the last items are left to merge. `signal` stops it
 * (an item parked: nothing is merged; complete shards written so far are rewritten by the next merge). */
export async function mergeFollowing(
  options: PrepOptions,
  plan: string[][],
  job: string,
  signal: AbortSignal,
  settled: string,
): Promise<MergeFigures> {
  const s = await stagesOf(options);
  const dir = itemDir(s.out, job);
  const files = plan.map((_, i) => join(dir, itemFile(i)));
  const figures = await merge(
    options,
    plan,
    files,
    [],
    [],
    { inputs: plan, configHash: configHash(s), settled },
    signal,
  );
  // every item has been read, so complete: its record counts its documents
  const docs = plan.reduce((n, _, i) => n + (readItemRecord(dir, i)?.docs ?? 0), 0);
  return { docs, ...figures };
}

/** Item outputs `files` (of the items' `inputs`) in order -> the job's pack and write steps. */
async function merge(
  options: PrepOptions,
  inputs: string[][],
  files: string[],
  drops: string[],
  pairs: string[],
  follow?: { inputs: string[][]; configHash: string; settled: string },
  signal?: AbortSignal,
): Promise<Omit<MergeFigures, 'docs'>> {
  const s = await stagesOf(options);
  const readCfg = s.read[0]!.config as { batchBytes?: number; batchRows?: number };
  const r = await runPipeline(
    {
      name: 'prep-merge',
      budget: { maxInFlight: 8 },
      steps: [
        {
          id: 'read',
          op: readItems,
          config: {
            files,
            // read-files gives each run of files of one kind to a reader of its own: batches end with runs
            // (an item's files are of one kind: groupItems)
            runStarts:
              s.read[0]!.op === readFiles
                ? inputs.flatMap((f, i) => (i > 0 && inputKind(f[0]!) !== inputKind(inputs[i - 1]!.at(-1)!) ? [i] : []))
                : [],
            layouts: inputs.map((f) => layoutOf(s.read[0]!.op, f[0]!)),
            dedup: s.dedup,
            drops,
            maxEntries: s.dedupCfg.maxEntries,
            onFull: s.dedupCfg.onFull,
            ...(s.near ? { near: s.near, nearPairs: pairs } : {}),
            ...(readCfg.batchBytes ? { batchBytes: readCfg.batchBytes } : {}),
            ...(readCfg.batchRows ? { batchRows: readCfg.batchRows } : {}),
            ...(follow ? { follow } : {}),
          },
        },
        ...s.write,
      ],
    },
    signal ? { signal } : {},
  );
  if (!r.ok)
    throw new Error(
      `merge ${r.cancelled ? 'cancelled' : 'failed'}${r.error?.operator ? ` in ${r.error.operator}` : ''}: ${r.error?.message ?? ''}`,
    );
  const manifest = resolve(s.out, MANIFEST);
  const m = readManifest(s.out, 'prep-merge');
  return {
    duplicates: r.nodes.read?.dropReasons.exact_duplicate ?? 0,
    nearDuplicates: r.nodes.read?.dropReasons.near_duplicate ?? 0,
    tokens: m.tokens,
    rows: m.rows,
    shards: m.shards.length,
    manifest,
  };
}

export { checkPartitions, runDedupPartition, verifyDedupPartition };

export default {
  planItems,
  checkPartitions,
  verifyItem,
  runItem,
  mergeItems,
  mergeFollowing,
  verifyDedupPartition,
  runDedupPartition,
} satisfies PrepClusterModule;
