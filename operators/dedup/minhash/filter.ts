// Near-dedup with MinHash-LSH: keeps the first document of each cluster of near-duplicates and drops
// the rest with reason `near_duplicate` (or, with mode 'mark', keeps all rows and marks them). Uses the
// `minhash` column when an upstream `dedup/minhash/signature` node computed it (e.g. on the worker
// pool), otherwise computes signatures itself. Single-threaded: the index (lsh.ts) is bounded and can
// be saved and restored (../persist.ts). Rows without shingles pass through, unindexed.
import type { DataType, RecordBatch, Utf8 } from 'apache-arrow';
import { Bool as BoolType, Field, Int64 as Int64Type, Schema, Utf8 as Utf8Type } from 'apache-arrow';
import { z } from 'zod';
import { defineOperator } from '../../../src/core/operator.ts';
import { FlowError } from '../../../src/core/errors.ts';
import { runRows, type RowSpec } from '../../../src/core/row-kernel.ts';
import { rowRejectsConfig } from '../../../src/core/row-operator.ts';
import { persistConfig, withIndex } from '../persist.ts';
import {
  bandsFit,
  bandsFitMessage,
  lshFields,
  resolveBanding,
  SIGNATURE_META,
  signatureFields,
  signatureTag,
} from './config.ts';
import { LshIndex } from './lsh.ts';
import { MinHasher, fmix32, type Signature } from './signature.ts';

type Text = { text: Utf8 };
const Config = z
  .object({
    ...signatureFields,
    ...lshFields,
    mode: z.enum(['drop', 'mark']).default('drop').describe("'mark' keeps every row and adds minhash_duplicate"),
    cluster: z
      .boolean()
      .default(false)
      .describe("add minhash_cluster (Int64: sequence number of the cluster's first document)"),
    keepSignature: z
      .boolean()
      .default(true)
      .describe('keep an upstream minhash column in the output (false: drop it once used, e.g. before shards)'),
    ...persistConfig,
    ...rowRejectsConfig,
  })
  .refine(bandsFit, bandsFitMessage);
export type MinhashDedupConfig = z.output<typeof Config>;

/** A nonzero hash of a document id (0 stands for "no id"). */
const idHashOf = (id: string): number => {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return fmix32(h) >>> 0 || 1;
};

function outputSchema(cfg: MinhashDedupConfig): Schema<Text> {
  const fields: Field[] = [new Field('text', new Utf8Type(), false)];
  if (cfg.cluster || cfg.mode === 'mark') fields.push(new Field('minhash_cluster', new Int64Type(), true));
  if (cfg.mode === 'mark') fields.push(new Field('minhash_duplicate', new BoolType(), false));
  return new Schema(fields) as Schema<Text>;
}

/** The signatures of a batch: from its `minhash` column (checked against the settings) or computed. */
function signaturesOf(
  batch: RecordBatch<Text>,
  cfg: MinhashDedupConfig,
  hasher: MinHasher,
  nodeId: string,
): { values: Uint32Array; base: number; valid: (r: number) => boolean } {
  const K = cfg.numPerm;
  const col = (batch as unknown as RecordBatch<Signature>).getChild('minhash');
  if (col) {
    const tag = batch.schema.fields.find((f) => f.name === 'minhash')?.metadata.get(SIGNATURE_META);
    if ((tag !== undefined && tag !== signatureTag(cfg)) || col.type.listSize !== K) {
      throw new FlowError(
        nodeId,
        `the minhash column was computed with ${tag ?? `numPerm ${col.type.listSize}`}, this filter expects ${signatureTag(cfg)}: ` +
          'give dedup/minhash/signature and this node the same unit, shingleSize, numPerm and seed',
        { field: 'minhash' },
      );
    }
    const d = col.data[0]!,
      child = d.children[0]!;
    return { values: child.values as Uint32Array, base: d.offset * K + child.offset, valid: (r) => col.isValid(r) };
  }
  const text = batch.getChild('text')!;
  const values = new Uint32Array(batch.numRows * K);
  const scratch = new Int32Array(K),
    bits = new Uint32Array(scratch.buffer);
  const ok = new Uint8Array(batch.numRows);
  for (let r = 0; r < batch.numRows; r++) {
    const t = text.get(r);
    if (t !== null && hasher.signInto(t, scratch) > 0) {
      values.set(bits, r * K);
      ok[r] = 1;
    }
  }
  return { values, base: 0, valid: (r) => ok[r] === 1 };
}

/** The verdicts of one index, in row order. A row without a signature (no text, or too short to
 * shingle) passes unindexed, with a null cluster. mark: every row is kept and marked. */
function minhashRows(cfg: MinhashDedupConfig, index: LshIndex, hasher: MinHasher, nodeId: string): RowSpec {
  const columns: Record<string, DataType> = {};
  if (cfg.cluster || cfg.mode === 'mark') columns.minhash_cluster = new Int64Type();
  if (cfg.mode === 'mark') columns.minhash_duplicate = new BoolType();
  const K = cfg.numPerm;
  return {
    read: 'none',
    nulls: 'row',
    columns,
    rejects: cfg.rejects,
    ...(cfg.keepSignature ? {} : { removes: ['minhash'] }),
    batch: (batch) => {
      const sigs = signaturesOf(batch as unknown as RecordBatch<Text>, cfg, hasher, nodeId);
      const ids = (batch as unknown as RecordBatch<{ id: Utf8 }>).getChild('id'); // optional: replay detection
      return (_, r) => {
        if (!sigs.valid(r)) return { minhash_duplicate: false };
        const id = ids?.get(r);
        const cluster = index.add(sigs.values, sigs.base + r * K, typeof id === 'string' ? idHashOf(id) : 0);
        if (index.duplicate && cfg.mode === 'drop') return 'near_duplicate';
        return { minhash_cluster: BigInt(cluster), minhash_duplicate: index.duplicate };
      };
    },
  };
}

export const minhashDedup = defineOperator({
  id: 'dedup/minhash/filter',
  description: 'near-dedup with MinHash-LSH: keep the first document of each cluster (bounded, resumable index)',
  config: Config,
  input: () => new Schema<Text>([new Field('text', new Utf8Type(), false)]),
  passthrough: true,
  output: outputSchema,
  removes: (cfg) => (cfg.keepSignature ? [] : ['minhash']),
  make: (cfg, ctx) => {
    const { bands, rows } = resolveBanding(cfg);
    const { numPerm, threshold, verify, maxDocs, onFull, unit, shingleSize, seed } = cfg;
    const params = { numPerm, bands, rows, threshold, verify, maxDocs, onFull };
    const fingerprint = { unit, shingleSize, seed, ...params };
    const hasher = new MinHasher(cfg);
    let current: { index: LshIndex; spec: RowSpec } | undefined;
    return withIndex<LshIndex, Text, Text>(
      () => new LshIndex(params, fingerprint),
      (index, batch) => {
        if (current?.index !== index) current = { index, spec: minhashRows(cfg, index, hasher, ctx.nodeId) };
        return runRows(current.spec, batch as unknown as RecordBatch) as unknown as RecordBatch<Text>;
      },
      { ctx, statePath: cfg.statePath, saveEvery: cfg.saveEvery },
    );
  },
});
