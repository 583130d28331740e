// Near-dedup with MinHash-LSH: keeps the first document of each cluster of near-duplicates and drops
// the rest with reason `near_duplicate` (or, with mode 'mark', keeps all rows and marks them). Uses the
// `minhash` column when an upstream `dedup/minhash/signature` node computed it (e.g. on the worker
// pool), otherwise computes signatures itself. Single-threaded: the index (lsh.ts) is bounded and can
// be saved and restored (../persist.ts). Rows without shingles pass through, unindexed.
import type { Bool, Int64, RecordBatch, Utf8, Vector } from 'apache-arrow';
import { Bool as BoolType, Field, Int64 as Int64Type, Schema, Utf8 as Utf8Type, makeData, makeVector } from 'apache-arrow';
import { z } from 'zod';
import { defineOperator } from '../../../src/core/operator.ts';
import { FlowError } from '../../../src/core/errors.ts';
import { takeRows, withColumns } from '../../../src/schema/index.ts';
import { persistConfig, withIndex } from '../persist.ts';
import { bandsFit, bandsFitMessage, lshFields, resolveBanding, SIGNATURE_META, signatureFields, signatureTag } from './config.ts';
import { IndexFullError, LshIndex } from './lsh.ts';
import { MinHasher, fmix32, type Signature } from './signature.ts';

type Text = { text: Utf8 };
const Config = z.object({
  ...signatureFields,
  ...lshFields,
  mode: z.enum(['drop', 'mark']).default('drop').describe("'mark' keeps every row and adds minhash_duplicate"),
  cluster: z.boolean().default(false).describe('add minhash_cluster (Int64: sequence number of the cluster\'s first document)'),
  ...persistConfig,
}).refine(bandsFit, bandsFitMessage);
export type MinhashDedupConfig = z.output<typeof Config>;

/** A nonzero hash of a document id (0 stands for "no id"). */
const idHashOf = (id: string): number => {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (fmix32(h) >>> 0) || 1;
};

function outputSchema(cfg: MinhashDedupConfig): Schema<Text> {
  const fields: Field[] = [new Field('text', new Utf8Type(), false)];
  if (cfg.cluster || cfg.mode === 'mark') fields.push(new Field('minhash_cluster', new Int64Type(), true));
  if (cfg.mode === 'mark') fields.push(new Field('minhash_duplicate', new BoolType(), false));
  return new Schema(fields) as Schema<Text>;
}

/** The signatures of a batch: from its `minhash` column (checked against the settings) or computed. */
function signaturesOf(batch: RecordBatch<Text>, cfg: MinhashDedupConfig, hasher: MinHasher, nodeId: string, batchIndex: number): { values: Uint32Array; base: number; valid: (r: number) => boolean } {
  const K = cfg.numPerm;
  const col = (batch as unknown as RecordBatch<Signature>).getChild('minhash');
  if (col) {
    const tag = batch.schema.fields.find((f) => f.name === 'minhash')?.metadata.get(SIGNATURE_META);
    if ((tag !== undefined && tag !== signatureTag(cfg)) || col.type.listSize !== K) {
      throw new FlowError(nodeId, `the minhash column was computed with ${tag ?? `numPerm ${col.type.listSize}`}, this filter expects ${signatureTag(cfg)}: ` +
        'give dedup/minhash/signature and this node the same unit, shingleSize, numPerm and seed', { batch: batchIndex, field: 'minhash' });
    }
    const d = col.data[0]!, child = d.children[0]!;
    return { values: child.values as Uint32Array, base: (d.offset * K) + child.offset, valid: (r) => col.isValid(r) };
  }
  const text = batch.getChild('text')!;
  const values = new Uint32Array(batch.numRows * K);
  const scratch = new Int32Array(K), bits = new Uint32Array(scratch.buffer);
  const ok = new Uint8Array(batch.numRows);
  for (let r = 0; r < batch.numRows; r++) {
    const t = text.get(r);
    if (t !== null && hasher.signInto(t, scratch) > 0) { values.set(bits, r * K); ok[r] = 1; }
  }
  return { values, base: 0, valid: (r) => ok[r] === 1 };
}

function int64Column(values: BigInt64Array, valid: Uint8Array, nulls: number): Vector<Int64> {
  return makeVector(makeData({ type: new Int64Type(), length: values.length, nullCount: nulls, nullBitmap: nulls > 0 ? valid : null, data: values }));
}

export const minhashDedup = defineOperator({
  id: 'dedup/minhash/filter',
  description: 'near-dedup with MinHash-LSH: keep the first document of each cluster (bounded, resumable index)',
  config: Config,
  input: () => new Schema<Text>([new Field('text', new Utf8Type(), false)]),
  passthrough: true,
  output: outputSchema,
  make: (cfg, ctx) => {
    const { bands, rows } = resolveBanding(cfg);
    const { numPerm, threshold, verify, maxDocs, onFull, unit, shingleSize, seed } = cfg;
    const params = { numPerm, bands, rows, threshold, verify, maxDocs, onFull };
    const fingerprint = { unit, shingleSize, seed, ...params };
    const hasher = new MinHasher(cfg);
    return withIndex<LshIndex, Text, Text>(() => new LshIndex(params, fingerprint), (index, batch, emit, b) => {
      const n = batch.numRows, K = numPerm;
      const sigs = signaturesOf(batch, cfg, hasher, ctx.nodeId, b);
      const ids = (batch as unknown as RecordBatch<{ id: Utf8 }>).getChild('id'); // optional: replay detection
      const clusters = new BigInt64Array(n);
      const valid = new Uint8Array((n + 7) >> 3);
      const dup = new Array<boolean>(n).fill(false);
      let nulls = 0;
      for (let r = 0; r < n; r++) {
        if (!sigs.valid(r)) { nulls++; continue; }
        const id = ids?.get(r);
        let cl: number;
        try { cl = index.add(sigs.values, sigs.base + r * K, typeof id === 'string' ? idHashOf(id) : 0); } catch (err) {
          if (err instanceof IndexFullError) throw new FlowError(ctx.nodeId, err.message, { batch: b, row: r });
          throw err;
        }
        clusters[r] = BigInt(cl);
        valid[r >> 3]! |= 1 << (r & 7);
        dup[r] = index.duplicate;
      }
      if (cfg.mode === 'mark') {
        const out = withColumns(batch, { minhash_cluster: int64Column(clusters, valid, nulls), minhash_duplicate: dup },
          { minhash_duplicate: new BoolType() } as { minhash_cluster?: Int64; minhash_duplicate?: Bool });
        emit(out as unknown as RecordBatch<Text>);
        return;
      }
      const keep: number[] = [];
      for (let r = 0; r < n; r++) if (!dup[r]) keep.push(r);
      ctx.stats.drop('near_duplicate', n - keep.length);
      if (keep.length === 0) return;
      let out = keep.length === n ? batch : takeRows(batch, keep);
      if (cfg.cluster) {
        const kc = new BigInt64Array(keep.length), kv = new Uint8Array((keep.length + 7) >> 3);
        let kn = 0;
        keep.forEach((r, i) => { if ((valid[r >> 3]! >> (r & 7)) & 1) { kc[i] = clusters[r]!; kv[i >> 3]! |= 1 << (i & 7); } else kn++; });
        out = withColumns(out, { minhash_cluster: int64Column(kc, kv, kn) }) as unknown as RecordBatch<Text>;
      }
      emit(out);
    }, { ctx, statePath: cfg.statePath, saveEvery: cfg.saveEvery });
  },
});
