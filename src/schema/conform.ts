// One schema object for every batch of a file: writers need it (Arrow's IPC writer silently ends the
// stream when a batch's schema differs; Parquet's writer rejects it), and readers use it to give their
// declared schema to what they read. Columns are taken by name without copying; only metadata changes
// (field order, nullability flag, dictionary ids).
import { DataType, Field, makeData, RecordBatch, Schema, Struct, type TypeMap } from 'apache-arrow';
import { formatType } from './compat.ts';

/** Same physical layout: data of type `b` can stand as a column of type `a` without a copy. */
export function sameLayout(a: DataType, b: DataType): boolean {
  if (a.typeId !== b.typeId) return false;
  if (DataType.isDictionary(a) && DataType.isDictionary(b))
    return sameLayout(a.indices, b.indices) && sameLayout(a.dictionary, b.dictionary);
  type Params = {
    bitWidth?: number;
    isSigned?: boolean;
    precision?: number;
    unit?: number;
    listSize?: number;
    byteWidth?: number;
    scale?: number;
  };
  const pa = a as DataType & Params,
    pb = b as DataType & Params;
  if (
    pa.bitWidth !== pb.bitWidth ||
    pa.isSigned !== pb.isSigned ||
    pa.precision !== pb.precision ||
    pa.unit !== pb.unit ||
    pa.listSize !== pb.listSize ||
    pa.byteWidth !== pb.byteWidth ||
    pa.scale !== pb.scale
  )
    return false;
  const ac = (a.children ?? []) as Field[],
    bc = (b.children ?? []) as Field[];
  return ac.length === bc.length && ac.every((f, i) => sameLayout(f.type, bc[i]!.type));
}

/** `batch` with exactly `schema`'s fields (extra columns dropped), or a message saying why it cannot. */
export function conformBatch<T extends TypeMap>(batch: RecordBatch, schema: Schema<T>): RecordBatch<T> | string {
  if (batch.schema === schema) return batch as RecordBatch<T>;
  const problems: string[] = [];
  const children = schema.fields.map((f) => {
    const i = batch.schema.fields.findIndex((g) => g.name === f.name);
    const data = i >= 0 ? batch.data.children[i] : undefined;
    if (!data) {
      problems.push(`column "${f.name}" is missing`);
      return undefined;
    }
    if (!sameLayout(f.type, data.type))
      problems.push(`column "${f.name}" has type ${formatType(data.type)}, expected ${formatType(f.type)}`);
    else if (!f.nullable && data.nullCount > 0)
      problems.push(`column "${f.name}" has ${data.nullCount} nulls but is declared non-null`);
    return data;
  });
  if (problems.length > 0) return problems.join('; ');
  const data = makeData({
    type: new Struct(schema.fields),
    length: batch.numRows,
    nullCount: 0,
    children: children.map((c) => c!),
  });
  return new RecordBatch(schema, data);
}

/** A file's schema: the first batch's; every later batch is conformed to it or refused. */
export class FirstSchema {
  private schema?: Schema;
  /** batches taken so far */
  count = 0;
  /** `batch` with the file's schema; otherwise throws what `refuse` makes of the reason. */
  take(batch: RecordBatch, refuse: (reason: string, index: number) => Error): RecordBatch {
    this.schema ??= batch.schema;
    const same = conformBatch(batch, this.schema);
    if (typeof same === 'string') throw refuse(same, this.count);
    this.count++;
    return same;
  }
}
