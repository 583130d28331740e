// What the dedup partitions of a clustered prep share (dedup-partition.ts: exact keys, near-partition.ts:
// LSH band keys): their config and record fields, which partition a 64-bit key falls in, and the check
// of a completion record against the item outputs it was made from. Outputs are written atomically.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AtomicFile } from '../../src/runtime/files.ts';
import { readRecord } from './completion-record.ts';
import { canonicalJson, sha256File, sha256Hex } from './manifest.ts';

/** What every partition of a job's dedup reads: the item outputs, in item order. */
export const partitionFields = {
  dir: z.string().min(1).describe('the directory the partition output and its record go to (the job item directory)'),
  files: z.array(z.string().min(1)).describe('item files, in item order'),
  /** the item outputs' sha256 (their completion records): the output is valid for these bytes only */
  shas: z.array(z.string()),
  partition: z.number().int().min(0),
  partitions: z.number().int().min(1),
};

/** What every partition's completion record holds. */
export const partitionRecordFields = {
  partition: z.number().int().min(0),
  partitions: z.number().int().min(1),
  file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** sha256 of the item outputs' sha256s, in item order */
  itemsHash: z.string(),
};

export const itemsHashOf = (shas: string[]) => sha256Hex(canonicalJson(shas));

/** The partition of a key: its high word (the key is a 64-bit hash: its words are spread evenly). */
export const partitionOf = (hi: number, partitions: number) => (hi >>> 0) % partitions;

/** A partition's completion record `recordName` in `dir` when it parses, names this partition and these
 * item outputs, and its file matches its sha256; else why not (a string). */
export async function checkPartitionRecord<
  R extends { partition: number; partitions: number; file: string; sha256: string; itemsHash: string },
>(
  dir: string,
  recordName: string,
  schema: z.ZodType<R>,
  expect: { partition: number; partitions: number; shas: string[] },
  more?: (rec: R) => string | null,
): Promise<R | string> {
  const rec = readRecord(join(dir, recordName), schema);
  if (typeof rec === 'string') return rec;
  if (rec.partition !== expect.partition || rec.partitions !== expect.partitions)
    return `record is of partition ${rec.partition} of ${rec.partitions}`;
  if (rec.itemsHash !== itemsHashOf(expect.shas)) return 'made from other item outputs (they were rewritten since)';
  const why = more?.(rec);
  if (why) return why;
  const file = join(dir, rec.file);
  if (!existsSync(file)) return `${rec.file} missing`;
  const sha = await sha256File(file);
  if (sha !== rec.sha256) return `${rec.file} does not match its record (sha256 ${sha.slice(0, 12)}…)`;
  return rec;
}

/** `data` at `path`, whole or not at all (temp + rename). */
export async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const f = new AtomicFile(path);
  try {
    await f.write(data);
    await f.commit();
  } catch (err) {
    await f.abort();
    throw err;
  }
}
