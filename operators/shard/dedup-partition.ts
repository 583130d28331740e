// Phase 2 of a clustered prep's exact dedup, partitioned by key hash: partition p of P reads every item
// output's keys in item order, keeps the keys with hash % P == p and records, per item, the positions of
// the documents whose key an EARLIER document had (first occurrence in input order wins, as in one
// process). Every key falls in exactly one partition, so the union of the P drops files is exactly the
// set of documents single-process dedup drops. Memory: one SeenSet of this partition's distinct keys
// (~16 B each: ~16 B x distinct documents / P; in a near-dedup job every key), one item batch, and the
// drops found (8 B each). A near-dedup job's partition takes its share of the LSH band keys in the same
// pass (near-partition.ts).
// The drops file (little-endian uint32 pairs: item, position; in item then position order) and its
// completion record are written atomically (temp + rename); the bytes depend only on the item outputs,
// so two workers running one partition write the same file and either rename may win.
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  RecordBatchReader,
  type AsyncRecordBatchFileReader,
  type RecordBatch,
  type Uint32,
  type Vector,
} from 'apache-arrow';
import { z } from 'zod';
import { DUPLICATE, SeenSet } from '../dedup/seen-set.ts';
import { sha256Hex } from './manifest.ts';
import {
  checkPartitionRecord,
  itemsHashOf,
  partitionFields,
  partitionOf,
  partitionRecordFields,
  writeAtomic,
} from './partition-record.ts';
import { PairList } from './pair-list.ts';
import { checkNearPartition, NearPass, type NearSettings } from './near-partition.ts';

export const DedupPartitionConfig = z.object({
  ...partitionFields,
  maxEntries: z.number().int().min(1).default(10_000_000).describe('distinct keys held by this partition'),
});
export type DedupPartitionConfig = z.input<typeof DedupPartitionConfig>;

export const DedupRecord = z.object({ ...partitionRecordFields, duplicates: z.number().int().min(0) });
export type DedupRecord = z.infer<typeof DedupRecord>;

const pad = (n: number) => String(n).padStart(4, '0');
export const dropsFile = (p: number, n: number) => `dedup-${pad(p)}-of-${pad(n)}.drops`;
export const dropsRecordFile = (p: number, n: number) => `dedup-${pad(p)}-of-${pad(n)}.done.json`;
/** An item output's batches, in order. */
async function* itemBatches(file: string): AsyncGenerator<RecordBatch> {
  const handle = await open(file, 'r');
  let reader: AsyncRecordBatchFileReader | undefined;
  try {
    try {
      reader = (await RecordBatchReader.from(handle)) as AsyncRecordBatchFileReader;
      await reader.open();
    } catch (err) {
      throw new Error(`dedup: cannot read item output ${file} (${(err as Error).message}); run the item again`);
    }
    yield* reader;
  } finally {
    await reader?.cancel().catch(() => undefined);
    await handle.close();
  }
}

/** The record of a complete partition whose drops match `shas`, or why there is none (a string). */
export function checkDedupPartition(
  dir: string,
  expect: { partition: number; partitions: number; shas: string[] },
): Promise<DedupRecord | string> {
  return checkPartitionRecord(dir, dropsRecordFile(expect.partition, expect.partitions), DedupRecord, expect);
}

/** Runs partition `partition` (skipped when its output already verifies); durable when it resolves. With
 * `near` (a near-dedup job) the same pass feeds this partition's share of the LSH band keys
 * (near-partition.ts), which then needs every exact key: the documents exact dedup drops are not fed. */
export async function runDedupPartition(config: DedupPartitionConfig, near?: NearSettings): Promise<DedupRecord> {
  const cfg = DedupPartitionConfig.parse(config);
  if (cfg.partition >= cfg.partitions)
    throw new Error(`dedup partition ${cfg.partition} does not exist: the job has ${cfg.partitions} partitions`);
  if (cfg.shas.length !== cfg.files.length) throw new Error('dedup partition: one sha256 per item file is needed');
  const where = { partition: cfg.partition, partitions: cfg.partitions };
  const expect = { ...where, shas: cfg.shas };
  const done = await checkDedupPartition(cfg.dir, expect);
  if (
    typeof done !== 'string' &&
    (!near || typeof (await checkNearPartition(cfg.dir, { ...expect, ...near })) !== 'string')
  )
    return done;
  const seen = new SeenSet(cfg.maxEntries, 'fail', {});
  const drops = new PairList();
  const pass = near ? new NearPass({ ...near, ...where }) : undefined;
  let seq = 0;
  for (const [item, file] of cfg.files.entries()) {
    let pos = 0;
    for await (const b of itemBatches(file)) {
      const lo = b.getChild('key_lo') as Vector<Uint32>,
        hi = b.getChild('key_hi') as Vector<Uint32>;
      pass?.batch(b, file);
      for (let r = 0; r < b.numRows; r++, pos++, seq++) {
        const h = Number(hi.get(r));
        const mine = partitionOf(h, cfg.partitions) === cfg.partition;
        if (!mine && !pass) continue;
        const dup = seen.check(Number(lo.get(r)), h, 0) === DUPLICATE;
        if (dup && mine) drops.push(item, pos);
        if (pass && !(near!.dedup && dup)) pass.row(r, seq);
      }
    }
  }
  // the pairs first: the drops record is what says the partition is done
  await pass?.write(cfg.dir, cfg.shas);
  const bytes = drops.bytes();
  const name = dropsFile(cfg.partition, cfg.partitions);
  await writeAtomic(join(cfg.dir, name), bytes);
  const rec: DedupRecord = {
    ...where,
    file: name,
    sha256: sha256Hex(bytes),
    duplicates: drops.count,
    itemsHash: itemsHashOf(cfg.shas),
  };
  await writeAtomic(join(cfg.dir, dropsRecordFile(cfg.partition, cfg.partitions)), `${JSON.stringify(rec, null, 2)}\n`);
  return rec;
}

/** The drops of every partition: per item, the positions of the documents to drop (memory: 8 B per
 * duplicate plus a Set entry, the duplicates only). */
export async function readDrops(files: string[]): Promise<Map<number, Set<number>>> {
  const out = new Map<number, Set<number>>();
  for (const file of files) {
    const buf = await readFile(file);
    if (buf.length % 8 !== 0) throw new Error(`dedup drops file ${file} is truncated (${buf.length} bytes)`);
    const v = new Uint32Array(new Uint8Array(buf).buffer); // a copy: aligned
    for (let i = 0; i < v.length; i += 2) {
      let s = out.get(v[i]!);
      if (!s) out.set(v[i]!, (s = new Set()));
      s.add(v[i + 1]!);
    }
  }
  return out;
}
