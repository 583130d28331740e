// The dedup partitions of a clustered prep job as work items (run after every input item): each finds the
// duplicates among the item outputs' keys of its hash partition (operators/shard/dedup-partition.ts) and,
// in a job with near-dedup, the candidate pairs of its share of the LSH band keys (near-partition.ts).
import { resolve } from 'node:path';
import { ClusterJobError, type ItemResult, type WorkItem } from '../src/cli/prep-cluster-contract.ts';
import { checkDedupPartition, runDedupPartition as runPartition } from '../operators/shard/dedup-partition.ts';
import { itemDir, itemFile, itemRecordSha } from '../operators/shard/item-output.ts';
import { checkNearPartition, type NearSettings } from '../operators/shard/near-partition.ts';
import type { PrepOptions } from '../src/cli/prep-contract.ts';
import { stagesOf } from './prep-cluster-stages.ts';

/** Partitions hold no generations: a dedup that forgets (onFull 'evict') forgets other documents than one
 * index would, so the result would not be one process's. */
export async function checkPartitions(options: PrepOptions, partitions: number): Promise<void> {
  const s = await stagesOf(options);
  const evicting = [
    ...(s.dedup && s.dedupCfg.onFull === 'evict' ? ['dedup.onFull'] : []),
    ...(s.near?.onFull === 'evict' ? ['near-dedup.onFull'] : []),
  ];
  if (evicting.length > 0)
    throw new ClusterJobError(
      `prep --cluster: --dedup-partitions ${partitions} cannot split a dedup that forgets (${evicting.join(', ')} ` +
        `'evict'): partitions would forget other documents than one index; drop --dedup-partitions or use onFull 'fail'`,
    );
}

/** A near-dedup job's partition settings (undefined without near-dedup). */
export async function nearSettings(options: PrepOptions): Promise<NearSettings | undefined> {
  const s = await stagesOf(options);
  if (!s.near) return undefined;
  const { numPerm, bands, rows, maxDocs } = s.near;
  return { numPerm, bands, rows, maxDocs, dedup: s.dedup };
}

/** Partition p's near-dedup pairs file when it verifies, else why not; null: the job has no near-dedup. */
export async function checkNear(
  options: PrepOptions,
  dir: string,
  p: { partition: number; partitions: number; shas: string[] },
): Promise<{ file: string } | { why: string } | null> {
  const near = await nearSettings(options);
  if (!near) return null;
  const rec = await checkNearPartition(dir, { ...p, ...near });
  return typeof rec === 'string' ? { why: rec } : { file: resolve(dir, rec.file) };
}

/** The item outputs' recorded sha256s of a dedup work item's job (every item must be complete). */
async function itemShas(item: WorkItem): Promise<{ dir: string; shas: string[] }> {
  if (item.kind !== 'dedup' || item.items === undefined)
    throw new Error(`work item ${item.index} of ${item.job} is not a dedup partition (kind 'dedup', items)`);
  const dir = itemDir((await stagesOf(item.options)).out, item.job);
  const shas: string[] = [];
  for (let i = 0; i < item.items; i++) {
    const sha = itemRecordSha(dir, i);
    if (!sha) throw new Error(`dedup partition ${item.index}: item ${i} of ${item.job} is not complete: run it first`);
    shas.push(sha);
  }
  return { dir, shas };
}

const partitionResult = (dir: string, rec: { partition: number; file: string; sha256: string; duplicates: number }) =>
  ({
    index: rec.partition,
    file: resolve(dir, rec.file),
    sha256: rec.sha256,
    docs: rec.duplicates,
    bytesIn: 0,
    tokens: 0,
  }) satisfies ItemResult;

export async function verifyDedupPartition(item: WorkItem): Promise<ItemResult | null> {
  let found: { dir: string; shas: string[] };
  try {
    found = await itemShas(item);
  } catch {
    return null;
  }
  const p = { partition: item.index, partitions: item.count, shas: found.shas };
  const rec = await checkDedupPartition(found.dir, p);
  if (typeof rec === 'string') return null;
  const near = await checkNear(item.options, found.dir, p);
  return near && 'why' in near ? null : partitionResult(found.dir, rec);
}

export async function runDedupPartition(item: WorkItem, signal?: AbortSignal): Promise<ItemResult> {
  signal?.throwIfAborted();
  const { dir, shas } = await itemShas(item);
  const files = shas.map((_, i) => resolve(dir, itemFile(i)));
  const p = { dir, files, shas, partition: item.index, partitions: item.count };
  const maxEntries = (await stagesOf(item.options)).dedupCfg.maxEntries;
  const rec = await runPartition({ ...p, maxEntries }, await nearSettings(item.options));
  return partitionResult(dir, rec);
}
