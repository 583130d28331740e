// The near-dedup half of a clustered prep's dedup partition p of P (run with exact partition p, after
// every input item): the LSH band keys with hash % P == p. It reads every item output in item order,
// skips the documents exact dedup drops (it holds the job's exact keys for that: one process's near-dedup
// sees only what exact dedup kept) and those without a signature, and for each band key of its partition
// finds the first document that had it (as dedup/minhash/lsh.ts's index holds it: which document holds a
// key does not depend on any decision, only on the order). A document meeting an earlier holder gives a
// candidate pair (document, holder), by the documents' sequence numbers over all items. The merge checks
// each document's candidates from every partition against the signatures it kept of them, so the drops
// equal one process's LSH index. Memory: the exact key set (~16 B per distinct document), this
// partition's band keys (~16 B each: ~16 B x bands / P per document) and the pairs (8 B each).
// The pairs file (little-endian uint32 pairs, in document order) and its record are written atomically,
// as the exact partition's drops are (dedup-partition.ts).
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordBatchReader, type AsyncRecordBatchFileReader, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { bandKeys, estimateJaccard } from '../dedup/minhash/lsh.ts';
import { DUPLICATE, SeenSet } from '../dedup/seen-set.ts';
import { Table64 } from '../dedup/table64.ts';
import {
  checkPartitionRecord,
  itemsHashOf,
  partitionFields,
  partitionOf,
  partitionRecordFields,
  writeAtomic,
} from './dedup-partition.ts';
import { canonicalJson, sha256Hex } from './manifest.ts';
import { PairList } from './pair-list.ts';

export const NearPartitionConfig = z.object({
  ...partitionFields,
  dedup: z.boolean().describe('exact dedup runs before near-dedup (its drops are skipped)'),
  maxEntries: z.number().int().min(1).describe('distinct exact keys held (as dedup/exact)'),
  numPerm: z.number().int().min(1),
  bands: z.number().int().min(1),
  rows: z.number().int().min(1),
  maxDocs: z.number().int().min(1).describe("the filter's bound: band keys held here are at most maxDocs x bands"),
});
export type NearPartitionConfig = z.input<typeof NearPartitionConfig>;

export const NearRecord = z.object({
  ...partitionRecordFields,
  pairs: z.number().int().min(0),
  /** the LSH settings the pairs were found with */
  settingsHash: z.string(),
});
export type NearRecord = z.infer<typeof NearRecord>;

const pad = (n: number) => String(n).padStart(4, '0');
export const pairsFile = (p: number, n: number) => `near-${pad(p)}-of-${pad(n)}.pairs`;
const pairsRecordFile = (p: number, n: number) => `near-${pad(p)}-of-${pad(n)}.done.json`;
const settingsHashOf = (c: { numPerm: number; bands: number; rows: number; dedup: boolean }) =>
  sha256Hex(canonicalJson({ numPerm: c.numPerm, bands: c.bands, rows: c.rows, dedup: c.dedup }));

async function* itemBatches(file: string): AsyncGenerator<RecordBatch> {
  const handle = await open(file, 'r');
  let reader: AsyncRecordBatchFileReader | undefined;
  try {
    try {
      reader = (await RecordBatchReader.from(handle)) as AsyncRecordBatchFileReader;
      await reader.open();
    } catch (err) {
      throw new Error(`near-dedup: cannot read item output ${file} (${(err as Error).message}); run the item again`);
    }
    yield* reader;
  } finally {
    await reader?.cancel().catch(() => undefined);
    await handle.close();
  }
}

/** The record of a complete near partition matching the item outputs and settings, or why there is none. */
export function checkNearPartition(
  dir: string,
  expect: Pick<NearPartitionConfig, 'partition' | 'partitions' | 'shas' | 'numPerm' | 'bands' | 'rows' | 'dedup'>,
): Promise<NearRecord | string> {
  return checkPartitionRecord(dir, pairsRecordFile(expect.partition, expect.partitions), NearRecord, expect, (rec) =>
    rec.settingsHash === settingsHashOf(expect) ? null : 'made with other near-dedup settings',
  );
}

/** Runs near partition `partition` (skipped when its output verifies); durable when it resolves. */
export async function runNearPartition(config: NearPartitionConfig): Promise<NearRecord> {
  const cfg = NearPartitionConfig.parse(config);
  if (cfg.partition >= cfg.partitions)
    throw new Error(`near partition ${cfg.partition} does not exist: the job has ${cfg.partitions} partitions`);
  if (cfg.shas.length !== cfg.files.length) throw new Error('near partition: one sha256 per item file is needed');
  const done = await checkNearPartition(cfg.dir, cfg);
  if (typeof done !== 'string') return done;
  const K = cfg.numPerm;
  const seen = cfg.dedup ? new SeenSet(cfg.maxEntries, 'fail', {}) : undefined;
  const holders = new Table64(cfg.maxDocs * cfg.bands);
  const keyLo = new Uint32Array(cfg.bands),
    keyHi = new Uint32Array(cfg.bands);
  const pairs = new PairList();
  let seq = 0;
  for (const file of cfg.files) {
    for await (const b of itemBatches(file)) {
      const lo = b.getChild('key_lo')!,
        hi = b.getChild('key_hi')!,
        mh = b.getChild('minhash');
      if (!mh || (mh.type as { listSize?: number }).listSize !== K)
        throw new Error(`near-dedup: item output ${file} has no minhash column of ${K} values; run the item again`);
      const d = mh.data[0]!,
        child = d.children[0]!;
      const values = child.values as Uint32Array,
        base = d.offset * K + child.offset;
      for (let r = 0; r < b.numRows; r++, seq++) {
        if (seen && seen.check(Number(lo.get(r)), Number(hi.get(r)), 0) === DUPLICATE) continue;
        if (!mh.isValid(r)) continue;
        bandKeys(values, base + r * K, cfg.bands, cfg.rows, keyLo, keyHi);
        for (let k = 0; k < cfg.bands; k++) {
          if (partitionOf(keyHi[k]!, cfg.partitions) !== cfg.partition) continue;
          const holder = holders.add(keyLo[k]!, keyHi[k]!, seq);
          if (holder === -2)
            throw new Error(
              `near partition ${cfg.partition}: more than maxDocs x bands (${cfg.maxDocs * cfg.bands}) band keys; raise ` +
                'the near-dedup maxDocs',
            );
          if (holder !== seq) pairs.push(seq, holder);
        }
      }
    }
  }
  const bytes = pairs.bytes();
  const name = pairsFile(cfg.partition, cfg.partitions);
  await writeAtomic(join(cfg.dir, name), bytes);
  const rec: NearRecord = {
    partition: cfg.partition,
    partitions: cfg.partitions,
    file: name,
    sha256: sha256Hex(bytes),
    pairs: pairs.count,
    itemsHash: itemsHashOf(cfg.shas),
    settingsHash: settingsHashOf(cfg),
  };
  await writeAtomic(join(cfg.dir, pairsRecordFile(cfg.partition, cfg.partitions)), `${JSON.stringify(rec, null, 2)}\n`);
  return rec;
}

/** Every partition's candidate pairs: per document (sequence number), its earlier candidates, and the
 * set of documents that are someone's candidate (their signatures are kept by the merge). */
export async function readNearPairs(files: string[]): Promise<{ cands: Map<number, number[]>; needed: Set<number> }> {
  const cands = new Map<number, number[]>();
  const needed = new Set<number>();
  for (const file of files) {
    const buf = await readFile(file);
    if (buf.length % 8 !== 0) throw new Error(`near-dedup pairs file ${file} is truncated (${buf.length} bytes)`);
    const v = new Uint32Array(new Uint8Array(buf).buffer); // a copy: aligned
    for (let i = 0; i < v.length; i += 2) {
      const list = cands.get(v[i]!);
      if (list) list.push(v[i + 1]!);
      else cands.set(v[i]!, [v[i + 1]!]);
      needed.add(v[i + 1]!);
    }
  }
  return { cands, needed };
}

/** Near-dedup from the partitions' candidate pairs: a document is a near duplicate when one of its
 * candidates (earlier documents holding one of its band keys) reaches the threshold, as in LshIndex.
 * Keeps the 16 low bits of each signature some later document names as a candidate. */
export class NearChecks {
  private readonly kept = new Map<number, Uint16Array>();
  constructor(
    private readonly p: { numPerm: number; threshold: number; verify: boolean },
    private readonly pairs: { cands: Map<number, number[]>; needed: Set<number> },
  ) {}

  /** Decides for document `seq` (exact-kept, with a signature) and keeps its signature when needed. */
  check(seq: number, sig: Uint32Array, off: number): boolean {
    const K = this.p.numPerm;
    if (this.pairs.needed.has(seq)) {
      const low = new Uint16Array(K);
      for (let i = 0; i < K; i++) low[i] = sig[off + i]! & 0xffff;
      this.kept.set(seq, low);
    }
    const cands = this.pairs.cands.get(seq);
    if (!cands) return false;
    if (!this.p.verify) return true;
    for (const c of cands) {
      const low = this.kept.get(c);
      if (!low)
        throw new Error(`near-dedup: candidate ${c} of document ${seq} was not seen first: pairs of other items`);
      if (estimateJaccard(sig, off, low, 0, K) >= this.p.threshold) return true;
    }
    return false;
  }
}
