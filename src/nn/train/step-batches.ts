// The training chain's batches (DESIGN.md §3, §6) and the replica's plain structures, both ways,
// without copying the big arrays: Packed micro-batches <-> PackedBatch, a step's flat gradient <->
// a GradBucket batch (one row per all-reduce bucket, `values` a view of the flat array), and what a
// step carries besides columns (step number, loss, tokens, data cursor, last step) as JSON in the
// schema metadata, where it travels with the batch through any operator that passes batches on.
import { Float32, Int32, makeData, RecordBatch, Schema, Struct, type List, type TypeMap } from 'apache-arrow';
import { gradBucketSchema, type GradBucket } from '../../schema/columns.ts';
import type { EvalResult } from '../eval/evaluate.ts';
import type { StepGrads, StepReport } from './replica.ts';
import { buckets, BUCKET_ELEMS } from './replica-reduce.ts';

// Packed micro-batches <-> PackedBatch live in packed-batch.ts (all three Packed columns)
export { packedBatchOf, packedOf, packedRows } from './packed-batch.ts';

/** Schema-metadata key of the data cursor after a batch (the same key shard/read-shards uses). */
export const CURSOR_KEY = 'flowlm.cursor';
/** Schema-metadata key of a step's facts (StepMeta), JSON. */
export const STEP_KEY = 'flowlm.step';

export interface StepMeta {
  /** the optimizer step this batch belongs to (1-based: the step it produces or produced) */
  step: number;
  /** mean loss over what the gradient covers (this rank's micro-batches, or all after all-reduce) */
  loss?: number;
  /** input tokens it covers */
  tokens?: number;
  /** data position after the step */
  cursor?: unknown;
  /** the run ends with this step (the last of the config, or a stop agreed by the ranks) */
  last?: boolean;
  /** the ranks agreed to stop after this step */
  stopped?: boolean;
  /** after the optimizer step: its learning rate and the gradient norm before clipping */
  lr?: number;
  gradNorm?: number;
  /** after evaluation (rank 0) */
  val?: EvalResult;
}

/** The optimizer step's report a Metrics batch of the chain carries (train/optimizer-step). */
export function stepReportOf(batch: RecordBatch, where: string): StepReport {
  const m = stepMetaOf(batch, where);
  const { loss, lr, gradNorm, tokens } = m;
  if (loss === undefined || lr === undefined || gradNorm === undefined || tokens === undefined) {
    throw new Error(
      `${where}: batch of step ${m.step} carries no optimizer-step report; place this after train/optimizer-step`,
    );
  }
  return { step: m.step, loss, lr, gradNorm, tokens };
}

/** The batch with `entries` added to its schema metadata (columns shared, not copied). */
export function withMeta<T extends TypeMap>(batch: RecordBatch<T>, entries: Record<string, unknown>): RecordBatch<T> {
  const metadata = new Map(batch.schema.metadata);
  for (const [k, v] of Object.entries(entries)) metadata.set(k, JSON.stringify(v));
  return new RecordBatch(new Schema(batch.schema.fields, metadata), batch.data) as RecordBatch<T>;
}

/** A JSON metadata entry of a batch, or undefined. */
export function metaOf(batch: RecordBatch, key: string): unknown {
  const text = batch.schema.metadata.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}

/** The step facts a chain stage needs, checked. */
export function stepMetaOf(batch: RecordBatch, where: string): StepMeta {
  const m = metaOf(batch, STEP_KEY) as StepMeta | undefined;
  if (!m || !Number.isInteger(m.step))
    throw new Error(
      `${where}: batch has no ${STEP_KEY} metadata with a step number; it must come from the training chain ` +
        `(train/forward-backward)`,
    );
  return m;
}

/** A step's flat gradient as a GradBucket batch: row i is bucket i, its values a view of `flat`. */
export function gradBucketBatch(
  flat: Float32Array,
  meta: StepMeta,
  bucketElems = BUCKET_ELEMS,
): RecordBatch<GradBucket> {
  const schema = gradBucketSchema();
  const bs = buckets(flat.length, bucketElems);
  const offsets = Int32Array.from([0, ...bs.map(([, e]) => e)]);
  const valuesType = schema.fields[1]!.type as List<Float32>;
  const children = [
    makeData({ type: new Int32(), length: bs.length, nullCount: 0, data: Int32Array.from(bs, (_, i) => i) }),
    makeData({
      type: valuesType,
      length: bs.length,
      nullCount: 0,
      valueOffsets: offsets,
      child: makeData({ type: new Float32(), length: flat.length, data: flat }),
    }),
  ];
  const batch = new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length: bs.length, nullCount: 0, children }),
  ) as RecordBatch<GradBucket>;
  return withMeta(batch, { [STEP_KEY]: meta });
}

/** A GradBucket batch of the chain as the replica's StepGrads (flat a view, as flatOf gives it). */
export function stepGradsOf(batch: RecordBatch<GradBucket>, where: string): StepGrads {
  const m = stepMetaOf(batch, where);
  if (m.loss === undefined || m.tokens === undefined)
    throw new Error(
      `${where}: gradient of step ${m.step} carries no loss and token count; it must come from train/forward-backward`,
    );
  return { loss: m.loss, tokens: m.tokens, flat: flatOf(batch) };
}

/** The flat gradient a GradBucket batch holds (a view when its buckets are one contiguous array, as
 * gradBucketBatch makes them; else a copy in bucket order). */
export function flatOf(batch: RecordBatch<GradBucket>): Float32Array {
  const col = batch.getChild('values');
  if (!col) throw new Error(`flatOf: not a GradBucket batch (columns: ${batch.schema.names.join(', ')})`);
  if (col.data.length === 1) {
    const d = col.data[0]!;
    const offsets = d.valueOffsets;
    const values = d.children[0]!.values as Float32Array;
    return values.subarray(offsets[d.offset]!, offsets[d.offset + d.length]!);
  }
  const parts = [...col].map((v) => (v ? Float32Array.from(v) : new Float32Array(0)));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
