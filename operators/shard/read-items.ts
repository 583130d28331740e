// The source of a clustered prep's merge: the item outputs (item-output.ts) read in item order, exact
// duplicates dropped across all of them (first occurrence wins, one SeenSet as dedup/exact holds: the
// same bound, ~16 bytes per distinct text, maxEntries of them), as Tokens batches (id, url, source,
// tokens) cut where one process's reader would have cut its batches (batchRows documents or
// batchBytes of weight, duplicates included, since dedup runs after the reader): shard boundaries
// depend on the batches the writer sees, down to the sizes of their buffers (see Pending). Memory: the
// key set, one item output (whole up to 64 MiB, else one item batch: one reader batch of tokens; the one
// before it too while batches that are views of its tokens are in flight) and the batch being replayed.
import { RecordBatch, Schema, type Data, type Int32, type List, type Uint32, type Vector } from 'apache-arrow';
import { z } from 'zod';
import { FlowError } from '../../src/core/errors.ts';
import { defineSource } from '../../src/core/operator.ts';
import { keptBatch } from '../../src/core/row-batch.ts';
import { RowBatcher } from '../../src/schema/row-batcher.ts';
import { docSchema, type Tokens } from '../../src/schema/columns.ts';
import { DUPLICATE, SeenSet } from '../dedup/seen-set.ts';
import { DocBatcher } from '../ingest/doc-batcher.ts';
import { docBatchLimits } from '../ingest/reader-batches.ts';
import { readDrops } from './dedup-partition.ts';
import { NearChecks, readNearPairs } from './near-partition.ts';
import { LshIndex } from '../dedup/minhash/lsh.ts';
import { awaitItem, itemBatches } from './item-batches.ts';
import { tokensField, tokensVector } from '../tokenize/tokens-column.ts';

const Config = z.object({
  files: z.array(z.string().min(1)).describe('item files, in item order'),
  runStarts: z
    .array(z.number().int().min(0))
    .default([])
    .describe('items a new reader starts at (read-files: a file of another kind), ending the batch before them'),
  layouts: z
    .array(z.enum(['doc', 'row']))
    .default([])
    .describe("per item, its reader's batcher: doc (DocBatcher: text) or row (RowBatcher: JSON Lines...; the default)"),
  dedup: z.boolean().default(true).describe('drop documents whose key an earlier document had'),
  drops: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'dedup partition drops files (dedup-partition.ts): when given, drop exactly the documents they name instead of holding every key',
    ),
  maxEntries: z.number().int().min(1).default(10_000_000).describe('distinct keys held (as dedup/exact)'),
  onFull: z.enum(['fail', 'evict']).default('fail').describe('at maxEntries: fail or forget the oldest half'),
  batchRows: docBatchLimits.batchRows.describe("the reader's batchRows"),
  batchBytes: docBatchLimits.batchBytes.describe("the reader's batchBytes"),
  near: z
    .object({
      numPerm: z.number().int().min(1).describe('signature length (the items’ minhash column)'),
      bands: z.number().int().min(1).describe('LSH bands'),
      rows: z.number().int().min(1).describe('signature rows per band'),
      threshold: z.number().gt(0).lt(1).describe('Jaccard similarity at or above which documents are duplicates'),
      verify: z.boolean().describe('drop only when the signature estimate reaches the threshold'),
      maxDocs: z.number().int().min(1).describe('documents the index holds (memory bound)'),
      onFull: z.enum(['fail', 'evict']).describe('at maxDocs: fail, or forget the oldest half'),
    })
    .optional()
    .describe(
      "near-dedup after exact dedup, as dedup/minhash/filter with these (resolved) settings: the items' minhash " +
        'signatures go through one LSH index in order (first of each cluster kept)',
    ),
  nearPairs: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'with near: the candidate pairs files of every dedup partition (near-partition.ts); each document is checked ' +
        'against its candidates instead of holding the whole LSH index',
    ),
  follow: z
    .object({
      inputs: z.array(z.array(z.string().min(1)).min(1)).describe('per item, its input files (checked in its record)'),
      configHash: z.string().describe('the settings hash its record must name'),
      pollMs: z.number().int().min(1).default(25).describe('how often a missing record is looked for'),
      settled: z
        .string()
        .optional()
        .describe('a file that exists once every item was reported done: from then on a missing item fails the run'),
    })
    .optional()
    .describe(
      'read while the items are being made: before each item, wait until its completion record names these ' +
        'inputs and settings, then verify its sha256 (a record that does not verify fails the run)',
    ),
});

/** Tokenize's output columns, as one process hands them to the writer. */
export const mergedSchema = (): Schema<Tokens> => {
  const doc = docSchema();
  const f = (name: string) => doc.fields.find((x) => x.name === name)!;
  return new Schema([f('id'), f('url'), f('source'), tokensField()]) as Schema<Tokens>;
};

type Layout = 'doc' | 'row';

/** A reader batch being replayed: every document pushed counts; the duplicates among them are
 * dropped as dedup/exact drops them. The batch is built as one process builds it, for the writer
 * sizes shards by the bytes of the batches' buffers: by the reader's own batcher (DocBatcher for text,
 * RowBatcher for the record readers), filtered by the row kernel's keptBatch when dedup dropped rows
 * (a copy), the tokens added by keptBatch as tokenize adds them. */
class Pending {
  rows = 0;
  weight = 0;
  docs: Array<{ id: string; url: string | null; source: string }> = [];
  keep: number[] = [];
  toks: Int32Array[] = [];

  push(doc: { id: string; url: string | null; source: string }, weight: number, tokens: Int32Array | undefined): void {
    this.rows++;
    if (weight > 0) this.weight += weight;
    if (tokens) {
      this.keep.push(this.docs.length);
      this.toks.push(tokens);
    }
    this.docs.push(doc);
  }

  batch(layout: Layout): RecordBatch<Tokens> | undefined {
    const n = this.keep.length;
    if (n === 0) return undefined;
    const schema = docSchema();
    const unlimited = { batchRows: Number.MAX_SAFE_INTEGER };
    let b: RecordBatch;
    if (layout === 'doc') {
      const d = new DocBatcher(schema, unlimited);
      for (const doc of this.docs) d.push({ ...doc, text: '' });
      b = d.flush();
    } else {
      const r = new RowBatcher(schema, unlimited);
      for (const doc of this.docs) r.push({ ...doc, text: '' });
      b = r.flush();
    }
    if (n < this.docs.length) b = keptBatch(b, this.keep, new Map(), []);
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + this.toks[i]!.length;
    const ids = adjacent(this.toks) ?? new Int32Array(offsets[n]!);
    if (ids.buffer !== this.toks[0]!.buffer) this.toks.forEach((t, i) => ids.set(t, offsets[i]!));
    return keptBatch(b, undefined, new Map([['tokens', tokensVector(ids, offsets)]]), [
      'text',
      'tokens',
    ]) as RecordBatch<Tokens>;
  }
}

/** The documents' tokens as one view when they lie end to end in one buffer (an item file's tokens column,
 * no duplicate dropped between them): the batch needs no copy of them. */
function adjacent(toks: Int32Array[]): Int32Array | undefined {
  const first = toks[0]!;
  let end = first.byteOffset + first.byteLength;
  for (let i = 1; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.buffer !== first.buffer || t.byteOffset !== end) return undefined;
    end += t.byteLength;
  }
  return new Int32Array(first.buffer, first.byteOffset, (end - first.byteOffset) >> 2);
}

/** An item batch's minhash signatures (a near-dedup job's items have them). */
function signaturesOf(b: RecordBatch, K: number, nodeId: string, file: string) {
  const col = b.getChild('minhash');
  if (!col || (col.type as { listSize?: number }).listSize !== K)
    throw new FlowError(nodeId, `item output has no minhash column of ${K} values: it was made without near-dedup`, {
      file,
      field: 'minhash',
    });
  const d = col.data[0]!,
    child = d.children[0]!;
  return {
    values: child.values as Uint32Array,
    base: d.offset * K + child.offset,
    valid: (r: number) => col.isValid(r),
  };
}

export const readItems = defineSource({
  id: 'shard/read-items',
  description:
    'read clustered prep item outputs in order, drop exact duplicates across them, as tokenized documents in the ' +
    'batches one process would have made',
  config: Config,
  output: () => mergedSchema(),
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<Tokens>> {
    // partitioned dedup: the documents to drop were found by the partitions (memory: the duplicates)
    const drops = cfg.dedup && cfg.drops.length > 0 ? await readDrops(cfg.drops) : undefined;
    const seen = cfg.dedup && !drops ? new SeenSet(cfg.maxEntries, cfg.onFull, {}) : undefined;
    const near =
      cfg.near && cfg.nearPairs.length > 0 ? new NearChecks(cfg.near, await readNearPairs(cfg.nearPairs)) : undefined;
    const lsh = cfg.near && !near ? new LshIndex(cfg.near, {}) : undefined;
    let seq = 0; // documents over all items, exact duplicates included: the pairs' numbering
    const runStarts = new Set(cfg.runStarts);
    let layout: Layout = 'row';
    let p = new Pending();
    for (const [i, file] of cfg.files.entries()) {
      if (runStarts.has(i) && p.rows > 0) {
        const out = p.batch(layout);
        if (out) yield out;
        p = new Pending();
      }
      layout = cfg.layouts[i] ?? 'row';
      const bytes = cfg.follow ? await awaitItem(file, i, cfg.follow, ctx) : undefined;
      if (bytes === false) return;
      const dropped = drops?.get(i);
      let pos = 0;
      // batch by batch from the file (the item file's batches are tokenize's: one reader batch each)
      for await (const b of itemBatches(file, bytes, ctx.nodeId)) {
        const lo = b.getChild('key_lo') as Vector<Uint32>,
          hi = b.getChild('key_hi') as Vector<Uint32>;
        const weight = b.getChild('weight')!,
          cut = b.getChild('cut')!,
          id = b.getChild('id')!,
          url = b.getChild('url')!,
          source = b.getChild('source')!;
        const toks = b.getChild('tokens')!.data[0]! as Data<List<Int32>>;
        const values = toks.children[0]!.values as Int32Array;
        const sigs = cfg.near ? signaturesOf(b, cfg.near.numPerm, ctx.nodeId, file) : undefined;
        for (let r = 0; r < b.numRows; r++, pos++, seq++) {
          const w = Number(weight.get(r));
          let dup = drops
            ? dropped?.has(pos) === true
            : seen?.check(Number(lo.get(r)), Number(hi.get(r)), 0) === DUPLICATE;
          if (dup) ctx.stats.drop('exact_duplicate');
          // what dedup/minhash/filter decides after dedup/exact: a document without shingles passes unindexed
          else if (sigs?.valid(r)) {
            const off = sigs.base + r * cfg.near!.numPerm;
            if (near) dup = near.check(seq, sigs.values, off);
            else {
              lsh!.add(sigs.values, off, 0);
              dup = lsh!.duplicate;
            }
            if (dup) ctx.stats.drop('near_duplicate');
          }
          p.push(
            { id: String(id.get(r)), url: (url.get(r) as string | null) ?? null, source: String(source.get(r)) },
            w,
            dup ? undefined : values.subarray(toks.valueOffsets[r]!, toks.valueOffsets[r + 1]!),
          );
          if (w < 0 ? cut.get(r) === 1 : p.rows >= cfg.batchRows || p.weight >= cfg.batchBytes) {
            const out = p.batch(layout);
            if (out) yield out;
            p = new Pending();
          }
        }
      }
    }
    const out = p.batch(layout);
    if (out) yield out;
  },
});
