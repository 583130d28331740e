// Building RecordBatches from plain columns or rows against a declared schema, and small helpers to
// grow or measure batches without copying existing column data.
import {
  RecordBatch,
  Schema,
  Field,
  Struct,
  makeData,
  vectorFromArray,
  Vector,
  DataType,
  type Data,
  type TypeMap,
} from 'apache-arrow';
import { sameLayout } from './conform.ts';

/** JS value accepted for one cell of a column of type T (what Arrow's builders take). */
export type Cell<T extends DataType> = T['TValue'] | null;
export type RowOf<T extends TypeMap> = { [K in keyof T]: Cell<T[K]> | T[K]['TValue'] | unknown };
/** Values for a column of type T: a vector (of another layout it is cast), JS values, or a typed array. */
export type ColumnInput<T extends DataType> = Vector<T> | Vector | ArrayLike<unknown> | T['TArray'];

/** A cell as Arrow's builders accept it: nested vectors (list cells) become arrays, since the list
 * builders read a Vector cell as zeros. */
function plainCell(v: unknown): unknown {
  if (!(v instanceof Vector)) return v;
  const t = v.type;
  if (v.nullCount === 0 && (DataType.isInt(t) || DataType.isFloat(t))) return v.toArray();
  return Array.from(v, plainCell);
}

function toVector<D extends DataType>(field: Field<D>, values: ColumnInput<D>): Vector<D> {
  // vectorFromArray ignores the requested type for vectors and typed arrays: check it, and rebuild
  // from the values when the layout differs (a Float64Array for a Float32 column, Utf8 for a dictionary)
  const given =
    values instanceof Vector
      ? (values as Vector)
      : ArrayBuffer.isView(values)
        ? (vectorFromArray(values as unknown as Int32Array) as Vector)
        : undefined;
  const out =
    given && sameLayout(field.type, given.type)
      ? (given as Vector<D>)
      : (vectorFromArray(Array.from((given ?? values) as ArrayLike<unknown>, plainCell), field.type) as Vector<D>);
  if (!field.nullable && out.nullCount > 0) {
    let row = 0;
    while (out.isValid(row)) row++;
    throw new Error(
      `column "${field.name}" is not nullable but row ${row} is null; give it a value or declare the column nullable`,
    );
  }
  return out;
}

/** A batch from columns (arrays or vectors), each cast to the schema's type for that column. */
export function batchFromColumns<T extends TypeMap>(
  schema: Schema<T>,
  columns: { [K in keyof T]: ColumnInput<T[K]> },
): RecordBatch<T> {
  const vectors = schema.fields.map((f) => {
    const col = (columns as Record<string, ColumnInput<DataType> | undefined>)[f.name];
    if (col === undefined)
      throw new Error(`batchFromColumns: column "${f.name}" missing (schema has ${schema.names.join(', ')})`);
    return toVector(f, col);
  });
  const length = vectors[0]?.length ?? 0;
  for (const [i, v] of vectors.entries())
    if (v.length !== length)
      throw new Error(
        `batchFromColumns: column "${schema.fields[i]!.name}" has ${v.length} rows, "${schema.fields[0]!.name}" has ` +
          `${length}`,
      );
  return batchFromVectors(schema, vectors, length);
}

/** A batch from row objects; a missing key becomes null (valid only for nullable columns). */
export function batchFromRows<T extends TypeMap>(
  schema: Schema<T>,
  rows: ReadonlyArray<Partial<RowOf<T>>>,
): RecordBatch<T> {
  const columns: Record<string, unknown[]> = {};
  for (const f of schema.fields) columns[f.name] = rows.map((r) => (r as Record<string, unknown>)[f.name] ?? null);
  return batchFromColumns(schema, columns as { [K in keyof T]: ColumnInput<T[K]> });
}

function batchFromVectors<T extends TypeMap>(schema: Schema<T>, vectors: Vector[], length: number): RecordBatch<T> {
  // Multi-chunk vectors (from a builder) must be one Data each inside a batch.
  const children = vectors.map((v) => (v.data.length === 1 ? v.data[0]! : concatData(v)));
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/** One contiguous Data from a multi-chunk vector (builders emit chunks past their size hint). */
export function concatData(v: Vector): Data {
  const joined = vectorFromArray(Array.from(v, plainCell), v.type);
  if (joined.data.length !== 1) throw new Error(`column of ${v.length} rows does not fit one Arrow chunk`);
  return joined.data[0]!;
}

/** A new batch with the given columns added (or replaced), sharing every other column's buffers. */
export function withColumns<T extends TypeMap, A extends TypeMap>(
  batch: RecordBatch<T>,
  add: { [K in keyof A]: Vector<A[K]> | ColumnInput<A[K]> },
  types?: { [K in keyof A]?: A[K] },
): RecordBatch<Omit<T, keyof A> & A> {
  const fields = batch.schema.fields.slice() as Field[];
  const children = batch.data.children.slice();
  for (const [name, col] of Object.entries(add) as [string, ColumnInput<DataType>][]) {
    const type =
      (types as Record<string, DataType | undefined> | undefined)?.[name] ??
      (col instanceof Vector ? col.type : undefined);
    if (!type) throw new Error(`withColumns: column "${name}" needs a type (pass a Vector or a type)`);
    const field = new Field(name, type, true);
    const vec = toVector(field, col);
    if (vec.length !== batch.numRows)
      throw new Error(`withColumns: column "${name}" has ${vec.length} rows, batch has ${batch.numRows}`);
    const data = vec.data.length === 1 ? vec.data[0]! : concatData(vec);
    const at = fields.findIndex((f) => f.name === name);
    const nf = new Field(name, type, vec.nullCount > 0 || (at >= 0 && fields[at]!.nullable));
    if (at >= 0) {
      fields[at] = nf;
      children[at] = data;
    } else {
      fields.push(nf);
      children.push(data);
    }
  }
  const schema = new Schema(fields, batch.schema.metadata);
  const data = makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children });
  return new RecordBatch(schema, data) as unknown as RecordBatch<Omit<T, keyof A> & A>;
}

/** Bytes held by a batch's buffers (slices count their whole shared buffers: an upper bound). */
export function batchBytes(batch: RecordBatch): number {
  return batch.data.byteLength;
}

/** A batch holding only the rows at `indices` (in that order). Copies the selected values. */
export function takeRows<T extends TypeMap>(batch: RecordBatch<T>, indices: ArrayLike<number>): RecordBatch<T> {
  const idx = Array.from(indices);
  const bad = idx.findIndex((i) => !Number.isInteger(i) || i < 0 || i >= batch.numRows);
  if (bad >= 0)
    throw new RangeError(`takeRows: index ${idx[bad]} (position ${bad}) is outside the batch's ${batch.numRows} rows`);
  const vectors = batch.schema.fields.map((f, c) => {
    const col = batch.getChildAt(c)!;
    return vectorFromArray(
      idx.map((i) => plainCell(col.get(i))),
      f.type,
    ) as Vector;
  });
  return batchFromVectors(batch.schema, vectors, idx.length);
}
