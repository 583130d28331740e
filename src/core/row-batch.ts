// The batch a row kernel emits: the kept rows of its input, without the columns it removes, with the
// columns it replaced swapped in place and the ones it adds appended. A column the kernel did not touch
// keeps the input's own buffers when every row is kept; when some row was dropped only those columns
// are copied (never the replaced or removed ones).
import { Field, RecordBatch, Schema, Struct, makeData, type Data, type Vector } from 'apache-arrow';
import { concatData, takeRows } from '../schema/build.ts';

/**
 * `input` cut to the rows in `keep` (all rows when undefined), without `removes`, with `columns` (one
 * value per kept row, in keep order) replacing input columns of the same name or appended in the order
 * given, with `metadata` (the input's by default). A replaced column is nullable when it was or now
 * holds nulls; an appended one when it holds nulls.
 */
export function keptBatch(
  input: RecordBatch,
  keep: readonly number[] | undefined,
  columns: ReadonlyMap<string, Vector>,
  removes: readonly string[],
  metadata: ReadonlyMap<string, string> = input.schema.metadata,
): RecordBatch {
  const length = keep ? keep.length : input.numRows;
  for (const [name, v] of columns)
    if (v.length !== length)
      throw new Error(`row kernel: column "${name}" has ${v.length} values for ${length} kept rows`);
  const fields = input.schema.fields;
  const carry = fields.flatMap((f, i) => (removes.includes(f.name) || columns.has(f.name) ? [] : [i]));
  let carried = carry.map((i) => input.data.children[i]!);
  if (keep && carry.length > 0) {
    const sub = new RecordBatch(
      new Schema(carry.map((i) => fields[i]!)),
      makeData({
        type: new Struct(carry.map((i) => fields[i]!)),
        length: input.numRows,
        nullCount: 0,
        children: carried,
      }),
    );
    carried = takeRows(sub, keep).data.children;
  }
  const outFields: Field[] = [];
  const children: Data[] = [];
  const placed = new Set<string>();
  let next = 0;
  for (const f of fields) {
    if (removes.includes(f.name)) continue;
    const v = columns.get(f.name);
    if (!v) {
      outFields.push(f);
      children.push(carried[next++]!);
      continue;
    }
    outFields.push(new Field(f.name, v.type, v.nullCount > 0 || f.nullable));
    children.push(oneData(v));
    placed.add(f.name);
  }
  // new columns, and those replacing a removed one (which go last, as new)
  for (const [name, v] of columns) {
    if (placed.has(name)) continue;
    outFields.push(new Field(name, v.type, v.nullCount > 0));
    children.push(oneData(v));
  }
  const data = makeData({ type: new Struct(outFields), length, nullCount: 0, children });
  return new RecordBatch(new Schema(outFields, new Map(metadata)), data);
}

const oneData = (v: Vector): Data => (v.data.length === 1 ? v.data[0]! : concatData(v));
