// Phase 2 of a clustered prep's exact dedup, partitioned by key hash: partition p of P reads every item
// output's keys in item order, keeps the keys with hash % P == p and records, per item, the positions of
// the documents whose key an EARLIER document had (first occurrence in input order wins, as in one
// process). Every key falls in exactly one partition, so the union of the P drops files is exactly the
// set of documents single-process dedup drops. Memory: one SeenSet of this partition's distinct keys
// (~16 B each: ~16 B x distinct documents / P), one item batch, and the drops found (8 B each).
// The drops file (little-endian uint32 pairs: item, position; in item then position order) and its
// completion record are written atomically (temp + rename); the bytes depend only on the item outputs,
// so two workers running one partition write the same file and either rename may win.
import { existsSync, readFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordBatchReader, type AsyncRecordBatchFileReader, type Uint32, type Vector } from 'apache-arrow';
import { z } from 'zod';
import { AtomicFile } from '../../src/runtime/files.ts';
import { DUPLICATE, SeenSet } from '../dedup/seen-set.ts';
import { canonicalJson, sha256File, sha256Hex } from './manifest.ts';
import { PairList } from './pair-list.ts';

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
export const itemsHashOf = (shas: string[]) => sha256Hex(canonicalJson(shas));

/** The partition of a key: its high word (the key is a 64-bit hash: its words are spread evenly). */
export const partitionOf = (hi: number, partitions: number) => (hi >>> 0) % partitions;

async function* keyBatches(file: string): AsyncGenerator<{ lo: Vector<Uint32>; hi: Vector<Uint32>; rows: number }> {
  const handle = await open(file, 'r');
  let reader: AsyncRecordBatchFileReader | undefined;
  try {
    try {
      reader = (await RecordBatchReader.from(handle)) as AsyncRecordBatchFileReader;
      await reader.open();
    } catch (err) {
      throw new Error(`dedup: cannot read item output ${file} (${(err as Error).message}); run the item again`);
    }
    for await (const b of reader)
      yield { lo: b.getChild('key_lo') as Vector<Uint32>, hi: b.getChild('key_hi') as Vector<Uint32>, rows: b.numRows };
  } finally {
    await reader?.cancel().catch(() => undefined);
    await handle.close();
  }
}

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
  const recordPath = join(dir, recordName);
  if (!existsSync(recordPath)) return 'no completion record';
  let rec: R;
  try {
    const r = schema.safeParse(JSON.parse(readFileSync(recordPath, 'utf8')));
    if (!r.success) return `completion record invalid: ${r.error.issues[0]?.message}`;
    rec = r.data;
  } catch (err) {
    return `completion record unreadable (${(err as Error).message})`;
  }
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

/** The record of a complete partition whose drops match `shas`, or why there is none (a string). */
export function checkDedupPartition(
  dir: string,
  expect: { partition: number; partitions: number; shas: string[] },
): Promise<DedupRecord | string> {
  return checkPartitionRecord(dir, dropsRecordFile(expect.partition, expect.partitions), DedupRecord, expect);
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

/** Runs partition `partition` (skipped when its output already verifies); durable when it resolves. */
export async function runDedupPartition(config: DedupPartitionConfig): Promise<DedupRecord> {
  const cfg = DedupPartitionConfig.parse(config);
  if (cfg.partition >= cfg.partitions)
    throw new Error(`dedup partition ${cfg.partition} does not exist: the job has ${cfg.partitions} partitions`);
  if (cfg.shas.length !== cfg.files.length) throw new Error('dedup partition: one sha256 per item file is needed');
  const expect = { partition: cfg.partition, partitions: cfg.partitions, shas: cfg.shas };
  const done = await checkDedupPartition(cfg.dir, expect);
  if (typeof done !== 'string') return done;
  const seen = new SeenSet(cfg.maxEntries, 'fail', {});
  const drops = new PairList();
  for (const [item, file] of cfg.files.entries()) {
    let pos = 0;
    for await (const { lo, hi, rows } of keyBatches(file)) {
      for (let r = 0; r < rows; r++, pos++) {
        const h = Number(hi.get(r));
        if (partitionOf(h, cfg.partitions) !== cfg.partition) continue;
        if (seen.check(Number(lo.get(r)), h, 0) === DUPLICATE) drops.push(item, pos);
      }
    }
  }
  const bytes = drops.bytes();
  const name = dropsFile(cfg.partition, cfg.partitions);
  await writeAtomic(join(cfg.dir, name), bytes);
  const rec: DedupRecord = {
    partition: cfg.partition,
    partitions: cfg.partitions,
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
