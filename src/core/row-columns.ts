// Typed columns from the values a row kernel's rows gave, one per kept row. Numbers go straight into
// typed arrays; strings, dictionaries and everything else through Arrow's builders.
import {
  DataType,
  Dictionary,
  Int32,
  Precision,
  Utf8,
  makeData,
  makeVector,
  vectorFromArray,
  type Field,
  type RecordBatch,
  type Vector,
} from 'apache-arrow';

/** A column a row kernel adds or replaces: its Arrow type, by column name. */
export type ColumnTypes = Record<string, DataType>;

/** The JS value of one cell of a column of type T (null: no value). */
export type CellOf<T extends DataType> = T['TValue'] | null;

/** The values a kept row gives its columns; a column left out is null, or, when it replaces an input
 * column, that row's input value. */
export type RowValues<C extends ColumnTypes> = { [K in keyof C]?: CellOf<C[K]> };

/** A vector of `type` holding `values` (as many as the kept rows). */
export function columnOf(batch: RecordBatch, name: string, type: DataType, values: readonly unknown[]): Vector {
  if (DataType.isDictionary(type) && DataType.isUtf8(type.dictionary))
    return dictVector(batch, name, values as ReadonlyArray<string | null>);
  // (half floats are stored as Uint16 bits: the builder converts them)
  const plainNumbers =
    (DataType.isFloat(type) && type.precision !== Precision.HALF) || (DataType.isInt(type) && type.bitWidth <= 32);
  if (plainNumbers && !values.includes(null) && !values.includes(undefined)) {
    const Arr = type.ArrayType as new (n: number) => Float32Array;
    const out = new Arr(values.length);
    for (let i = 0; i < values.length; i++) out[i] = values[i] as number;
    return makeVector(
      makeData({ type, length: values.length, nullCount: 0, data: out } as Parameters<typeof makeData>[0]),
    );
  }
  if (DataType.isInt(type) && type.bitWidth === 64)
    return int64Vector(type, values as ReadonlyArray<bigint | null | undefined>);
  return vectorFromArray(values.map((v) => v ?? null) as unknown[], type) as Vector;
}

/** Int64 with a validity bitmap only when some value is null (as a reader of the column expects). */
function int64Vector(type: DataType, values: ReadonlyArray<bigint | null | undefined>): Vector {
  const n = values.length;
  const data = new BigInt64Array(n);
  const valid = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      nulls++;
      continue;
    }
    data[i] = v;
    valid[i >> 3]! |= 1 << (i & 7);
  }
  return makeVector(
    makeData({ type, length: n, nullCount: nulls, nullBitmap: nulls > 0 ? valid : null, data } as Parameters<
      typeof makeData
    >[0]),
  );
}

/**
 * A Utf8 dictionary vector for a column a kernel adds. Its dictionary id comes from the column name,
 * not from dictUtf8()'s counter: that counter is per thread, so on a worker it restarts at 0 and
 * would reuse the id of a dictionary column made on the main thread (the source column), which Arrow
 * IPC refuses. A name-derived id is also the same in every batch of the stream.
 */
export function dictVector(batch: RecordBatch, column: string, values: ReadonlyArray<string | null>): Vector {
  let id = 1_000_000_000;
  for (let i = 0; i < column.length; i++) id = (Math.imul(id ^ column.charCodeAt(i), 16777619) >>> 0) % 1_000_000_000;
  id += 1_000_000_000;
  const taken = new Set<number>();
  const collect = (fields: readonly Field[]) => {
    for (const f of fields) {
      if (f.name === column) continue;
      if (DataType.isDictionary(f.type)) taken.add(f.type.id);
      collect(f.type.children ?? []);
    }
  };
  collect(batch.schema.fields);
  while (taken.has(id)) id++;
  return vectorFromArray(values as (string | null)[], new Dictionary(new Utf8(), new Int32(), id)) as Vector;
}
