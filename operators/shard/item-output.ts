// A work item's output in a clustered prep (src/cli/prep-cluster-contract.ts): its input files' documents,
// in order, as an Arrow IPC file of their exact-dedup keys, the reader's batch weight, the
// Doc columns that pass tokenizing (id, url, source) and the token ids. Written under a temporary name,
// synced and renamed (ShardOutput, as shards are), then a completion record with the file's sha256 is
// written the same way: an output without a record that verifies is not complete. The bytes depend only
// on the input and the config (no timestamps, no dictionaries), so two workers running one item write
// the same file and either rename may win.
import { statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { Field, FixedSizeList, Int32, List, Schema, Uint32, Uint8, Utf8 } from 'apache-arrow';
import { z } from 'zod';
import { AtomicFile } from '../../src/runtime/files.ts';
import { readRecord } from './completion-record.ts';
import { sha256File } from './manifest.ts';

/** Item file columns (`minhash` only in a job with near-dedup). `weight`: what the document counted against the reader's batchBytes (readers
 * whose batches span files: text, JSON Lines), or -1 for readers whose batches end with each file
 * (Parquet, IPC): then `cut` marks the documents that ended a reader batch. With both the merge cuts
 * the batches one process would have made. */
export const itemSchema = (numPerm?: number) =>
  new Schema([
    new Field('key_lo', new Uint32(), false),
    new Field('key_hi', new Uint32(), false),
    new Field('weight', new Int32(), false),
    new Field('cut', new Uint8(), false),
    new Field('id', new Utf8(), false),
    new Field('url', new Utf8(), true),
    new Field('source', new Utf8(), false),
    new Field('tokens', new List(new Field('item', new Int32(), false)), false),
    // a job with near-dedup: each document's MinHash signature (null: too short to shingle), for the merge's
    // LSH index, so the expensive part (shingling, hashing) runs on the workers
    ...(numPerm === undefined
      ? []
      : [new Field('minhash', new FixedSizeList(numPerm, new Field('item', new Uint32(), false)), true)]),
  ]);

export const ItemRecord = z.object({
  index: z.number().int().min(0),
  /** the item file, relative to the record's directory */
  file: z.string().min(1),
  /** the input files it was made from, in order */
  inputs: z.array(z.string().min(1)).min(1),
  /** hash of the settings that shape the item's bytes (reader, tokenizer, dedup key) */
  configHash: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(0),
  docs: z.number().int().min(0),
  bytesIn: z.number().int().min(0),
  tokens: z.number().int().min(0),
});
export type ItemRecord = z.infer<typeof ItemRecord>;

const pad = (index: number) => String(index).padStart(6, '0');
export const itemDir = (out: string, job: string) => join(out, '.items', job);
export const itemFile = (index: number) => `item-${pad(index)}.arrow`;
export const itemRecordFile = (index: number) => `item-${pad(index)}.done.json`;

// Item files this process hashed, by path: the file's identity then (device, inode, size, mtime) and the
// sha256 found. An item file is never changed in place (a new output is a new file renamed over the
// name), so a file of the same identity holds the same bytes: the coordinator's tracker and its following
// merge both check every item, and only the first hashes it (the second pass was 71.6 MB of sha256 per
// 64 MB of text, ~50 ms of the coordinator's CPU while the workers needed the cores).
const hashed = new Map<string, { id: string; sha256: string }>();
const MAX_HASHED = 100_000; // a long-running worker's memo: forgotten whole past this (kilobytes per thousand)
const identity = (s: Stats) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;

/** Whether this process hashed the file of these stats (its identity now) and found `sha256`. */
export function hashedBefore(file: string, stats: Stats, sha256: string): boolean {
  const h = hashed.get(file);
  return h !== undefined && h.sha256 === sha256 && h.id === identity(stats);
}

/** `file`, of these stats, was hashed to `sha256` (stats taken before reading it, and unchanged after). */
export function noteHashed(file: string, stats: Stats, sha256: string): void {
  if (hashed.size >= MAX_HASHED) hashed.clear();
  hashed.set(file, { id: identity(stats), sha256 });
}

const statOf = (file: string): Stats | undefined => {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
};

/** The record of a complete item output in `dir`, or why there is none (a string). `hash: false`: the
 * file's size is checked instead of its sha256 (the writer that just made it computed that sha256). */
export async function checkItem(
  dir: string,
  expect: { index: number; inputs: readonly string[]; configHash: string },
  { hash = true }: { hash?: boolean } = {},
): Promise<ItemRecord | string> {
  const rec = readRecord(join(dir, itemRecordFile(expect.index)), ItemRecord);
  if (typeof rec === 'string') return rec;
  if (rec.index !== expect.index) return `record is of item ${rec.index}`;
  if (rec.inputs.length !== expect.inputs.length || rec.inputs.some((f, i) => f !== expect.inputs[i]))
    return `record is of other inputs (${rec.inputs.length} files from ${rec.inputs[0]}), not ${expect.inputs.length} from ${expect.inputs[0]}`;
  if (rec.configHash !== expect.configHash)
    return (
      'made with other settings (reader, tokenizer, dedup key; for Parquet shards also the working directory, ' +
      'since document ids name input files relative to it: run every process in the same directory)'
    );
  const file = join(dir, rec.file);
  const before = statOf(file);
  if (!before) return `${rec.file} missing`;
  if (!hash) return before.size === rec.bytes ? rec : `${rec.file} is not of its recorded size`;
  if (hashedBefore(file, before, rec.sha256)) return rec;
  const sha = await sha256File(file);
  if (sha !== rec.sha256) return `${rec.file} does not match its record (sha256 ${sha.slice(0, 12)}…)`;
  const after = statOf(file);
  if (after && identity(after) === identity(before)) noteHashed(file, after, sha);
  return rec;
}

/** The sha256 an item's completion record names, without reading the item file (dedup partitions
 * record them; the merge verifies the files themselves), or null when there is no valid record. */
export function itemRecordSha(dir: string, index: number): string | null {
  return readItemRecord(dir, index)?.sha256 ?? null;
}

/** Item `index`'s completion record in `dir` as written (not checked against its file), or null. */
export function readItemRecord(dir: string, index: number): ItemRecord | null {
  const rec = readRecord(join(dir, itemRecordFile(index)), ItemRecord);
  return typeof rec !== 'string' && rec.index === index ? rec : null;
}

/** The completion record written atomically (synced, renamed): after the data file is in place. */
export async function writeItemRecord(dir: string, rec: ItemRecord): Promise<void> {
  const f = new AtomicFile(join(dir, itemRecordFile(rec.index)));
  try {
    await f.write(`${JSON.stringify(rec, null, 2)}\n`);
    await f.commit();
  } catch (err) {
    await f.abort();
    throw err;
  }
}
