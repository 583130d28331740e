// A batch made of rows picked from other batches (different shards, any order). The columns packed
// data has (FixedSizeList and List of numbers, plain numbers) are copied as typed-array slices; any
// other column, or one with nulls among the picked rows, goes through Arrow's builders.
import {
  DataType,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Vector,
  type Data,
  type FixedSizeList,
  type List,
} from 'apache-arrow';
import { batchFromColumns } from '../../src/schema/build.ts';

export type Pick = readonly [batch: RecordBatch, row: number];

type Numbers = {
  length: number;
  set(a: ArrayLike<number> | ArrayLike<bigint>, at: number): void;
  subarray(a: number, b: number): ArrayLike<number>;
};
type NumberCtor = new (n: number) => Numbers;

const flat = (t: DataType) => DataType.isInt(t) || DataType.isFloat(t);

/** Copies numbers of each picked (data, from, to) range of a primitive column into one typed array. */
function copyRanges(type: DataType, ranges: ReadonlyArray<readonly [Data, number, number]>): Numbers {
  const total = ranges.reduce((n, [, a, b]) => n + b - a, 0);
  const out = new (type.ArrayType as unknown as NumberCtor)(total);
  let at = 0;
  for (const [d, a, b] of ranges) {
    out.set((d.values as unknown as Numbers).subarray(a, b), at);
    at += b - a;
  }
  return out;
}

/** The gathered column as one Data, or undefined when it needs the general path. */
function fastColumn(type: DataType, datas: ReadonlyArray<readonly [Data, number]>): Data | undefined {
  if (datas.some(([d]) => d.nullCount !== 0)) return undefined;
  const n = datas.length;
  if (flat(type))
    return makeData({
      type,
      length: n,
      nullCount: 0,
      data: copyRanges(
        type,
        datas.map(([d, r]) => [d, r, r + 1] as const),
      ),
    } as never);
  if (DataType.isFixedSizeList(type)) {
    const t = type as FixedSizeList;
    const item = t.children[0]!.type;
    if (!flat(item) || datas.some(([d]) => d.children[0]!.nullCount !== 0)) return undefined;
    const size = t.listSize;
    const values = copyRanges(
      item,
      datas.map(([d, r]) => [d.children[0]!, r * size, (r + 1) * size] as const),
    );
    return makeData({
      type: t,
      length: n,
      nullCount: 0,
      child: makeData({ type: item, length: values.length, nullCount: 0, data: values } as never),
    });
  }
  if (DataType.isList(type)) {
    const t = type as List;
    const item = t.children[0]!.type;
    if (!flat(item) || datas.some(([d]) => d.children[0]!.nullCount !== 0)) return undefined;
    const offsets = new Int32Array(n + 1);
    const ranges = datas.map(([d, r], k) => {
      const o = d.valueOffsets as Int32Array;
      offsets[k + 1] = offsets[k]! + o[r + 1]! - o[r]!;
      return [d.children[0]!, o[r]!, o[r + 1]!] as const;
    });
    const values = copyRanges(item, ranges);
    return makeData({
      type: t,
      length: n,
      nullCount: 0,
      valueOffsets: offsets,
      child: makeData({ type: item, length: values.length, nullCount: 0, data: values } as never),
    });
  }
  return undefined;
}

/** The rows `picks` (each a batch and a row in it) as one batch of `schema`, in that order. */
export function gatherRows(schema: Schema, picks: readonly Pick[]): RecordBatch {
  const children: Array<Data | undefined> = schema.fields.map((f, c) =>
    fastColumn(
      f.type,
      picks.map(([b, r]) => [b.data.children[c]!, r] as const),
    ),
  );
  const slow = schema.fields.map((f, c) => [f, c] as const).filter(([, c]) => children[c] === undefined);
  if (slow.length > 0) {
    const vectors = new Map<Data, Vector>();
    const cell = (d: Data, r: number): unknown => {
      let v = vectors.get(d);
      if (!v) vectors.set(d, (v = new Vector([d])));
      return v.get(r);
    };
    const columns = Object.fromEntries(
      slow.map(([f, c]) => [f.name, picks.map(([b, r]) => cell(b.data.children[c]!, r))]),
    );
    const built = batchFromColumns(new Schema(slow.map(([f]) => f)), columns);
    slow.forEach(([, c], k) => {
      children[c] = built.data.children[k];
    });
  }
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length: picks.length, nullCount: 0, children: children as Data[] }),
  );
}
