// The column maps of DESIGN.md §3, declared once. Each is a TypeMap (for the compiler) plus a Schema
// factory (for runtime checks); stages extend them by intersection instead of forking new maps.
import {
  Schema,
  Field,
  Utf8,
  Int32,
  Int64,
  Float32,
  Float64,
  List,
  FixedSizeList,
  Dictionary,
  TimestampMillisecond,
  Uint8,
  type DataType,
  type TypeMap,
} from 'apache-arrow';

export type Doc = { id: Utf8; text: Utf8; url: Utf8; source: Dictionary<Utf8, Int32> };
export type Tokens = Omit<Doc, 'text'> & { tokens: List<Int32> };
export type Packed = { input_ids: FixedSizeList<Int32>; doc_starts: List<Int32>; attention_mask: FixedSizeList<Uint8> };
export type GradBucket = { bucket: Int32; values: List<Float32> };
export type Metrics = {
  step: Int64;
  split: Dictionary<Utf8, Int32>;
  name: Dictionary<Utf8, Int32>;
  value: Float64;
  time: TimestampMillisecond;
};
/** DESIGN.md §10: one row per (task, metric); stderr NaN where none is computed; config_hash names the
 * task settings and eval options the value came from (src/eval/run-tasks.ts). */
export type EvalResults = {
  task: Dictionary<Utf8, Int32>;
  metric: Dictionary<Utf8, Int32>;
  value: Float64;
  stderr: Float64;
  n: Int64;
  config_hash: Utf8;
};

/** A field list keyed by column name, typed by the TypeMap it describes. */
export type Columns<T extends TypeMap> = { [K in keyof T & string]: { type: T[K]; nullable?: boolean } };

export function schemaOf<T extends TypeMap>(columns: Columns<T>, metadata?: Map<string, string>): Schema<T> {
  const fields = Object.entries(columns).map(([name, c]) => {
    const col = c as { type: DataType; nullable?: boolean };
    return new Field(name, col.type, col.nullable ?? false);
  });
  return new Schema<T>(fields as Field<T[keyof T]>[], metadata);
}

/** Dictionary-encoded strings; each call gets a fresh dictionary id as Arrow IPC requires. The id
 * comes from Arrow's own process-wide counter: a counter of ours would collide with the ids Arrow
 * gives every Dictionary made without one (a Schema refuses two dictionaries with one id). */
export const dictUtf8 = (): Dictionary<Utf8, Int32> => new Dictionary(new Utf8(), new Int32());

export const docColumns = (): Columns<Doc> => ({
  id: { type: new Utf8() },
  text: { type: new Utf8() },
  url: { type: new Utf8(), nullable: true },
  source: { type: dictUtf8() },
});
export const docSchema = (): Schema<Doc> => schemaOf(docColumns());

export const tokensSchema = (): Schema<Tokens> => {
  const { text: _text, ...rest } = docColumns();
  return schemaOf<Tokens>({ ...rest, tokens: { type: new List(new Field('item', new Int32(), false)) } });
};

/** Packed rows hold seqLen+1 tokens: inputs and next-token labels share one row. */
export const packedSchema = (seqLen: number): Schema<Packed> =>
  schemaOf<Packed>({
    input_ids: { type: new FixedSizeList(seqLen + 1, new Field('item', new Int32(), false)) },
    doc_starts: { type: new List(new Field('item', new Int32(), false)), nullable: true },
    attention_mask: { type: new FixedSizeList(seqLen + 1, new Field('item', new Uint8(), false)), nullable: true },
  });

export const gradBucketSchema = (): Schema<GradBucket> =>
  schemaOf<GradBucket>({
    bucket: { type: new Int32() },
    values: { type: new List(new Field('item', new Float32(), false)) },
  });

export const metricsSchema = (): Schema<Metrics> =>
  schemaOf<Metrics>({
    step: { type: new Int64() },
    split: { type: dictUtf8() },
    name: { type: dictUtf8() },
    value: { type: new Float64() },
    time: { type: new TimestampMillisecond() },
  });

export const evalResultsSchema = (): Schema<EvalResults> =>
  schemaOf<EvalResults>({
    task: { type: dictUtf8() },
    metric: { type: dictUtf8() },
    value: { type: new Float64() },
    stderr: { type: new Float64() },
    n: { type: new Int64() },
    config_hash: { type: new Utf8() },
  });
