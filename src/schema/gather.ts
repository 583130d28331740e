// Rows picked from several batches of one schema, copied into one new batch: what a shuffle buffer
// or a sampler emits. Flat layouts (numbers, strings, lists and fixed-size lists of numbers, with no
// nulls) are copied as typed-array ranges, which is what packed token rows are; any other column
// goes cell by cell through Arrow's builders (correct, slower).
import {
  DataType,
  RecordBatch,
  Struct,
  makeData,
  makeVector,
  vectorFromArray,
  Vector,
  type Data,
  type Schema,
  type TypeMap,
} from 'apache-arrow';

/** The typed-array operations the copies need, common to every typed array (number or bigint). */
interface Flat {
  readonly length: number;
  subarray(begin: number, end: number): Flat;
  set(src: Flat, offset: number): void;
}
const flat = (v: unknown): Flat => v as Flat;
const allocLike = (like: Flat, n: number): Flat => new ((like as object).constructor as new (n: number) => Flat)(n);

/** Where the picked rows are: row k of the output is row `rows[k]` of `sources[from[k]]`. */
export interface Picks {
  from: ArrayLike<number>;
  rows: ArrayLike<number>;
}

const isFlatNumbers = (t: DataType) => DataType.isInt(t) || DataType.isFloat(t);
/** No nulls anywhere in the column (a child's nulls would need bitmaps too). */
const dense = (d: Data): boolean => d.nullCount === 0 && d.children.every(dense);

/** Copies element ranges [start, end) (in elements of `stride` values) of each source's values. */
function copyRanges(
  values: Flat[],
  stride: number,
  n: number,
  from: ArrayLike<number>,
  start: (k: number) => number,
  end: (k: number) => number,
): Flat {
  const out = allocLike(values[0]!, n * stride);
  let at = 0;
  for (let k = 0; k < from.length; k++) {
    const a = start(k) * stride,
      b = end(k) * stride;
    out.set(values[from[k]!]!.subarray(a, b), at);
    at += b - a;
  }
  return out;
}

function gatherData(type: DataType, datas: Data[], picks: Picks): Data | undefined {
  const { from, rows } = picks;
  const n = from.length;
  if (!datas.every(dense)) return undefined;
  if (isFlatNumbers(type)) {
    const stride = datas[0]!.stride;
    const values = copyRanges(
      datas.map((d) => flat(d.values)),
      stride,
      n,
      from,
      (k) => rows[k]!,
      (k) => rows[k]! + 1,
    );
    return makeData({ type, length: n, nullCount: 0, data: values } as Parameters<typeof makeData>[0]);
  }
  if (DataType.isFixedSizeList(type)) {
    const child = type.children[0]!.type;
    if (!isFlatNumbers(child)) return undefined;
    const size = type.listSize;
    const kids = datas.map((d) => d.children[0]!);
    const values = copyRanges(
      kids.map((d) => flat(d.values)),
      kids[0]!.stride * size,
      n,
      from,
      (k) => rows[k]!,
      (k) => rows[k]! + 1,
    );
    const childData = makeData({ type: child, length: n * size, nullCount: 0, data: values } as Parameters<
      typeof makeData
    >[0]);
    return makeData({ type, length: n, nullCount: 0, child: childData });
  }
  const variable = DataType.isUtf8(type) || DataType.isBinary(type);
  if (variable || (DataType.isList(type) && isFlatNumbers(type.children[0]!.type))) {
    const offsetsOf = datas.map((d) => d.valueOffsets as Int32Array);
    const offsets = new Int32Array(n + 1);
    for (let k = 0; k < n; k++) {
      const o = offsetsOf[from[k]!]!,
        r = rows[k]!;
      offsets[k + 1] = offsets[k]! + o[r + 1]! - o[r]!;
    }
    const start = (k: number) => offsetsOf[from[k]!]![rows[k]!]!;
    const end = (k: number) => offsetsOf[from[k]!]![rows[k]! + 1]!;
    if (variable) {
      const bytes = copyRanges(
        datas.map((d) => flat(d.values)),
        1,
        offsets[n]!,
        from,
        start,
        end,
      );
      return makeData({ type, length: n, nullCount: 0, valueOffsets: offsets, data: bytes } as Parameters<
        typeof makeData
      >[0]);
    }
    const child = type.children[0]!.type as DataType;
    const kids = datas.map((d) => d.children[0]!);
    const values = copyRanges(
      kids.map((d) => flat(d.values)),
      kids[0]!.stride,
      offsets[n]!,
      from,
      start,
      end,
    );
    const childData = makeData({ type: child, length: offsets[n]!, nullCount: 0, data: values } as Parameters<
      typeof makeData
    >[0]);
    return makeData({ type, length: n, nullCount: 0, valueOffsets: offsets, child: childData } as Parameters<
      typeof makeData
    >[0]);
  }
  return undefined;
}

/** A cell as Arrow's builders take it: nested vectors (list cells) become arrays. */
function plainCell(v: unknown): unknown {
  return v instanceof Vector ? Array.from(v as Vector, plainCell) : v;
}

function gatherCells(type: DataType, datas: Data[], picks: Picks): Data {
  const vectors = datas.map((d) => makeVector(d));
  const cells = Array.from({ length: picks.from.length }, (_, k) =>
    plainCell(vectors[picks.from[k]!]!.get(picks.rows[k]!)),
  );
  const v = vectorFromArray(cells, type);
  if (v.data.length !== 1) throw new Error(`gatherRows: column of ${cells.length} rows did not fit one Arrow chunk`);
  return v.data[0]!;
}

/** One batch of `schema` holding the picked rows, in pick order. Every source must have `schema`'s
 * columns in its order (batches of one stream do). */
export function gatherRows<T extends TypeMap>(
  schema: Schema<T>,
  sources: readonly RecordBatch[],
  picks: Picks,
): RecordBatch<T> {
  if (picks.from.length !== picks.rows.length)
    throw new Error(`gatherRows: ${picks.from.length} source indices but ${picks.rows.length} rows`);
  for (let k = 0; k < picks.from.length; k++) {
    const b = sources[picks.from[k]!];
    if (!b || picks.rows[k]! < 0 || picks.rows[k]! >= b.numRows)
      throw new RangeError(
        `gatherRows: pick ${k} (batch ${picks.from[k]}, row ${picks.rows[k]}) is outside the ${sources.length} ` +
          `source batches`,
      );
  }
  const children = schema.fields.map((f, c) => {
    const datas = sources.map((b) => b.data.children[c]!);
    return gatherData(f.type, datas, picks) ?? gatherCells(f.type, datas, picks);
  });
  const data = makeData({ type: new Struct(schema.fields), length: picks.from.length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}
