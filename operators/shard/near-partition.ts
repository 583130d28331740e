// The near-dedup half of a clustered prep's dedup partition p of P (dedup-partition.ts feeds it every
// document in the same pass over the item outputs): the LSH band keys with hash % P == p. Documents exact
// dedup drops are not fed (one process's near-dedup sees only what exact dedup kept), nor those without a
// signature. For each band key of its partition it finds the first document that had it (as
// dedup/minhash/lsh.ts's index holds it: which document holds a key does not depend on any decision, only
// on the order). A document meeting an earlier holder gives a candidate pair (document, holder), by the
// documents' sequence numbers over all items. The merge checks each document's candidates from every
// partition against the signatures it kept of them (NearChecks), so the drops equal one process's LSH
// index. Memory: this partition's band keys (~16 B each: ~16 B x bands / P per document) and the pairs
// (8 B each); the pass also holds the job's exact keys (~16 B per distinct document) to skip exact drops.
// The pairs file (little-endian uint32 pairs, in document order) and its record are written atomically.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordBatch, Vector } from 'apache-arrow';
import { z } from 'zod';
import { bandKeys, estimateJaccard } from '../dedup/minhash/lsh.ts';
import { Table64 } from '../dedup/table64.ts';
import {
  checkPartitionRecord,
  itemsHashOf,
  partitionOf,
  partitionRecordFields,
  writeAtomic,
} from './partition-record.ts';
import { canonicalJson, sha256Hex } from './manifest.ts';
import { PairList } from './pair-list.ts';

/** The LSH settings of a near-dedup job's partitions (the filter's, resolved). */
export const NearSettings = z.object({
  dedup: z.boolean().describe('exact dedup runs before near-dedup (its drops are not fed)'),
  numPerm: z.number().int().min(1),
  bands: z.number().int().min(1),
  rows: z.number().int().min(1),
  maxDocs: z.number().int().min(1).describe("the filter's bound: band keys held here are at most maxDocs x bands"),
});
export type NearSettings = z.infer<typeof NearSettings>;
type Where = { partition: number; partitions: number };

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

/** The record of a complete near partition matching the item outputs and settings, or why there is none. */
export function checkNearPartition(
  dir: string,
  expect: Where & { shas: string[] } & NearSettings,
): Promise<NearRecord | string> {
  return checkPartitionRecord(dir, pairsRecordFile(expect.partition, expect.partitions), NearRecord, expect, (rec) =>
    rec.settingsHash === settingsHashOf(expect) ? null : 'made with other near-dedup settings',
  );
}

/** One partition's share of the band keys: fed each document in order (`batch` before a batch's rows),
 * then `write` makes its pairs file and record durable. */
export class NearPass {
  private readonly holders: Table64;
  private readonly keyLo: Uint32Array;
  private readonly keyHi: Uint32Array;
  private readonly pairs = new PairList();
  private sigs: { col: Vector; values: Uint32Array; base: number } | undefined;

  constructor(private readonly cfg: NearSettings & Where) {
    this.holders = new Table64(cfg.maxDocs * cfg.bands);
    this.keyLo = new Uint32Array(cfg.bands);
    this.keyHi = new Uint32Array(cfg.bands);
  }

  /** The next item batch's signatures (its minhash column). */
  batch(b: RecordBatch, file: string): void {
    const K = this.cfg.numPerm;
    const col = b.getChild('minhash');
    if (!col || (col.type as { listSize?: number }).listSize !== K)
      throw new Error(`near-dedup: item output ${file} has no minhash column of ${K} values; run the item again`);
    const d = col.data[0]!,
      child = d.children[0]!;
    this.sigs = { col, values: child.values as Uint32Array, base: d.offset * K + child.offset };
  }

  /** Row `r` of the last batch, document `seq` of the job. */
  row(r: number, seq: number): void {
    const { cfg, sigs, keyLo, keyHi } = this;
    if (!sigs!.col.isValid(r)) return;
    bandKeys(sigs!.values, sigs!.base + r * cfg.numPerm, cfg.bands, cfg.rows, keyLo, keyHi);
    for (let k = 0; k < cfg.bands; k++) {
      if (partitionOf(keyHi[k]!, cfg.partitions) !== cfg.partition) continue;
      const holder = this.holders.add(keyLo[k]!, keyHi[k]!, seq);
      if (holder === -2)
        throw new Error(
          `near partition ${cfg.partition}: more than maxDocs x bands (${cfg.maxDocs * cfg.bands}) band keys; raise ` +
            'the near-dedup maxDocs',
        );
      if (holder !== seq) this.pairs.push(seq, holder);
    }
  }

  async write(dir: string, shas: string[]): Promise<NearRecord> {
    const { partition, partitions } = this.cfg;
    const bytes = this.pairs.bytes();
    const name = pairsFile(partition, partitions);
    await writeAtomic(join(dir, name), bytes);
    const rec: NearRecord = {
      partition,
      partitions,
      file: name,
      sha256: sha256Hex(bytes),
      pairs: this.pairs.count,
      itemsHash: itemsHashOf(shas),
      settingsHash: settingsHashOf(this.cfg),
    };
    await writeAtomic(join(dir, pairsRecordFile(partition, partitions)), `${JSON.stringify(rec, null, 2)}\n`);
    return rec;
  }
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
