// Packed rows (DESIGN §3 Packed) as Arrow: the output schema for a packing config, and a batch built
// around typed arrays the packer filled, without copying them: `input_ids` of R rows of width W is one
// Int32Array of R*W ids (row-major), so training can view it as an [R, W] tensor as is.
import {
  Field,
  FixedSizeList,
  Int32,
  List,
  RecordBatch,
  Schema,
  Struct,
  makeData,
  type Data,
  type DataType,
  type TypeMap,
  type Uint8,
} from 'apache-arrow';
import { packedSchema, type Packed } from '../../src/schema/columns.ts';

/** Packed rows whose width may vary from batch to batch (bucketing with `width: 'batch'`): List
 * columns in which every row of one batch has the same length. */
export type RaggedPacked = { input_ids: List<Int32>; attention_mask: List<Uint8> };
export type PackedOut = Packed | RaggedPacked;

export interface PackedColumns {
  /** include `doc_starts` (List<Int32>) */
  docStarts?: boolean;
  /** include `attention_mask` (1 = real token, 0 = padding) */
  mask?: boolean;
  /** List columns instead of FixedSizeList[seqLen+1] (rows padded to their batch's width) */
  ragged?: boolean;
}

/** The columns of packedSchema(seqLen) a config produces (input_ids always), or their List forms. */
export function packedOutputSchema(seqLen: number, cols: PackedColumns): Schema<Packed> {
  const wanted = new Set([
    'input_ids',
    ...(cols.docStarts ? ['doc_starts'] : []),
    ...(cols.mask ? ['attention_mask'] : []),
  ]);
  const fields = packedSchema(seqLen)
    .fields.filter((f) => wanted.has(f.name))
    .map((f) => {
      if (!cols.ragged || !(f.type instanceof FixedSizeList)) return f;
      const item = (f.type as FixedSizeList).children[0]!;
      return new Field(f.name, new List(new Field('item', item.type, false)), f.nullable);
    });
  return new Schema(fields) as Schema<Packed>;
}

/** What a packer filled: `rows` rows of `width` ids, row-major. */
export interface PackedParts {
  rows: number;
  width: number;
  ids: Int32Array;
  /** rows*width, 1 for a real token and 0 for padding */
  mask?: Uint8Array;
  /** row r's document starts are values[offsets[r], offsets[r+1]) */
  docStarts?: { offsets: Int32Array; values: Int32Array };
}

function grid(type: DataType, rows: number, width: number, data: Int32Array | Uint8Array): Data {
  const item = (type as FixedSizeList | List).children[0]!.type;
  if (data.length !== rows * width) throw new Error(`packed batch: ${data.length} values for ${rows} rows of ${width}`);
  const child = makeData({ type: item as Int32, length: data.length, nullCount: 0, data: data as Int32Array });
  if (type instanceof FixedSizeList) {
    if (type.listSize !== width)
      throw new Error(`packed batch: rows of ${width} tokens in a FixedSizeList[${type.listSize}] column`);
    return makeData({ type, length: rows, nullCount: 0, child });
  }
  const valueOffsets = new Int32Array(rows + 1);
  for (let r = 1; r <= rows; r++) valueOffsets[r] = r * width;
  return makeData({ type: type as List, length: rows, nullCount: 0, valueOffsets, child });
}

/** A batch of `schema` (from packedOutputSchema) around the filled arrays. */
export function packedBatch<T extends TypeMap = Packed>(schema: Schema, parts: PackedParts): RecordBatch<T> {
  const { rows, width } = parts;
  const children = schema.fields.map((f): Data => {
    if (f.name === 'input_ids') return grid(f.type, rows, width, parts.ids);
    if (f.name === 'attention_mask') {
      if (!parts.mask) throw new Error('packed batch: the schema has attention_mask but no mask was filled');
      return grid(f.type, rows, width, parts.mask);
    }
    if (f.name === 'doc_starts') {
      const ds = parts.docStarts;
      if (!ds || ds.offsets.length !== rows + 1) throw new Error(`packed batch: doc_starts needs ${rows + 1} offsets`);
      const child = makeData({ type: new Int32(), length: ds.values.length, nullCount: 0, data: ds.values });
      return makeData({ type: f.type as List<Int32>, length: rows, nullCount: 0, valueOffsets: ds.offsets, child });
    }
    throw new Error(`packed batch: unknown column "${f.name}"`);
  });
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }),
  ) as unknown as RecordBatch<T>;
}

/** A growable Int32Array (doc start offsets of a batch in progress). */
export class IntList {
  data = new Int32Array(64);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Int32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  /** the values so far, copied out; the list is emptied */
  take(): Int32Array {
    const out = this.data.slice(0, this.length);
    this.length = 0;
    return out;
  }
}
