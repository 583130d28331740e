// Dictionary columns of successive batches re-encoded against one growing dictionary per column. Each
// batch built by a builder carries its own dictionary; an Arrow IPC *file* may only extend a dictionary
// (delta batches), never replace it. Here the first batch's dictionary is kept and later batches' new
// values are appended as extra chunks, which Arrow's writer emits as deltas. Memory: one copy of each
// column's distinct values (use plain Utf8 or the stream format for high-cardinality columns).
import {
  Data,
  DataType,
  makeData,
  RecordBatch,
  Struct,
  Vector,
  vectorFromArray,
  type Dictionary,
  type TypeMap,
} from 'apache-arrow';

interface Column {
  index: Map<unknown, number>;
  values: Vector;
}
type IndexArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

export class DictionaryUnifier {
  private readonly columns = new Map<number, Column>();

  unify<T extends TypeMap>(batch: RecordBatch<T>): RecordBatch<T> {
    let changed = false;
    const children = batch.data.children.map((child, c) => {
      const type = batch.schema.fields[c]!.type;
      if (!DataType.isDictionary(type)) return child;
      const out = this.column(c, child as Data<Dictionary>, type);
      changed ||= out !== child;
      return out;
    });
    if (!changed) return batch;
    return new RecordBatch(
      batch.schema,
      makeData({ type: new Struct(batch.schema.fields), length: batch.numRows, nullCount: 0, children }),
    );
  }

  private column(c: number, data: Data<Dictionary>, type: Dictionary): Data {
    const local = data.dictionary;
    if (!local) return data;
    let col = this.columns.get(c);
    if (!col) {
      // the first dictionary becomes the column's: later ones are expressed against it
      const index = new Map<unknown, number>();
      for (let j = 0; j < local.length; j++) {
        const v: unknown = local.get(j);
        if (!index.has(v)) index.set(v, j);
      }
      this.columns.set(c, { index, values: local });
      return data;
    }
    if (local === col.values) return data;
    const remap = new Int32Array(local.length);
    const added: unknown[] = [];
    for (let j = 0; j < local.length; j++) {
      const v: unknown = local.get(j);
      let g = col.index.get(v);
      if (g === undefined) {
        g = col.values.length + added.length;
        col.index.set(v, g);
        added.push(v);
      }
      remap[j] = g;
    }
    if (added.length > 0) col.values = col.values.concat(vectorFromArray(added, type.dictionary) as Vector);
    const src = data.values as IndexArray;
    const Ctor = src.constructor as new (n: number) => IndexArray;
    const max = 2 ** (type.indices.bitWidth - (type.indices.isSigned ? 1 : 0)) - 1;
    if (col.values.length - 1 > max)
      throw new Error(
        `dictionary column ${c} has ${col.values.length} distinct values, more than its ${type.indices} indices can ` +
          `address`,
      );
    const indices = new Ctor(data.length);
    let nullBitmap: Uint8Array | undefined;
    if (data.nullCount > 0) nullBitmap = new Uint8Array((data.length + 7) >> 3);
    for (let r = 0; r < data.length; r++) {
      if (nullBitmap && !data.getValid(r)) continue;
      indices[r] = remap[src[data.offset + r]!]!;
      if (nullBitmap) nullBitmap[r >> 3] = (nullBitmap[r >> 3] ?? 0) | (1 << (r & 7));
    }
    return makeData({
      type,
      length: data.length,
      nullCount: data.nullCount,
      nullBitmap,
      data: indices,
      dictionary: col.values,
    });
  }
}
