// Named tensors as an Arrow IPC file with columns `name` Utf8, `shape` List<Int32>, `values`
// List<Float32>, one row per tensor. Each tensor is its own one-row record batch whose values buffer
// is the tensor's Float32Array itself (no copy, no concatenation): the IPC writer streams it to disk.
// Lower-precision storage (training checkpoints' weights, trainer.checkpointDtype): `values` is then
// List<Uint16> holding bfloat16 or float16 bit patterns (half-precision.ts), and the field's metadata
// says which (`flowlm.dtype`: bf16 | f16). Uint16 rather than Arrow's Float16 because Arrow has no
// bfloat16 type: one layout serves both, with the meaning in the metadata; a reader that does not know
// the key still sees the right shape and bit patterns. Readers always get float32 back (exact: every
// bf16 and f16 value is a float32). A file with no metadata is float32, as every file was before.
import {
  DataType,
  Field,
  Float32,
  Int32,
  List,
  makeData,
  Precision,
  RecordBatch,
  Schema,
  Struct,
  tableFromIPC,
  Uint16,
  Utf8,
  type Vector,
} from 'apache-arrow';
import { IpcWriter } from '../../runtime/ipc-writer.ts';
import { HashedFile, type WrittenFile } from './durable.ts';
import { fromHalf, toHalf, type HalfDtype } from './half-precision.ts';
import type { NamedTensor, NamedTensors, StorageDtype } from './types.ts';

export type TensorTable = { name: Utf8; shape: List<Int32>; values: List<Float32 | Uint16> };

/** the `values` field's metadata key naming a half-precision encoding */
export const DTYPE_KEY = 'flowlm.dtype';

export const tensorTableSchema = (dtype: StorageDtype = 'f32'): Schema<TensorTable> =>
  new Schema<TensorTable>([
    new Field('name', new Utf8(), false),
    new Field('shape', new List(new Field('item', new Int32(), false)), false),
    dtype === 'f32'
      ? new Field('values', new List(new Field('item', new Float32(), false)), false)
      : new Field('values', new List(new Field('item', new Uint16(), false)), false, new Map([[DTYPE_KEY, dtype]])),
  ]);

const MAX_LIST = 2 ** 31 - 1; // List offsets are Int32
// a reader's Float32 is a Float of single precision (not necessarily the Float32 class)
const isFloat32 = (t: DataType) => DataType.isFloat(t) && t.precision === Precision.SINGLE;
const isUint16 = (t: DataType) => DataType.isInt(t) && t.bitWidth === 16 && !t.isSigned;

/** The half-precision encoding of a schema's `values` (undefined: float32); throws on one it cannot read. */
function halfDtypeOf(schema: Schema, file: string): HalfDtype | undefined {
  const field = schema.fields.find((f) => f.name === 'values');
  const dtype = field?.metadata.get(DTYPE_KEY);
  if (dtype === undefined) return undefined;
  if (dtype !== 'bf16' && dtype !== 'f16')
    throw new Error(`${file}: values are stored as "${dtype}"; this flowlm reads bf16, f16 or float32 (no key)`);
  return dtype;
}

/** Throws unless `t` is a tensor whose shape matches its values (what every row must satisfy). */
export function checkTensor(name: string, t: NamedTensor, where: string): void {
  if (!(t.values instanceof Float32Array))
    throw new TypeError(`${where}: tensor "${name}" values must be a Float32Array`);
  if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0 || d > MAX_LIST))
    throw new RangeError(
      `${where}: tensor "${name}" has shape ${JSON.stringify(t.shape)}; dimensions must be integers in [0, 2^31)`,
    );
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (size !== t.values.length)
    throw new RangeError(
      `${where}: tensor "${name}" has shape [${t.shape.join(', ')}] (${size} values) but ${t.values.length} values`,
    );
  if (size > MAX_LIST)
    throw new RangeError(`${where}: tensor "${name}" has ${size} values; one row holds at most 2^31-1 (split it)`);
}

/** A one-row batch holding `tensor`; its values column shares the tensor's buffer. */
export function tensorBatch(schema: Schema<TensorTable>, name: string, tensor: NamedTensor): RecordBatch<TensorTable> {
  const [nameField, shapeField, valuesField] = schema.fields as [
    Field<Utf8>,
    Field<List<Int32>>,
    Field<List<Float32 | Uint16>>,
  ];
  const half = halfDtypeOf(schema, 'tensorBatch');
  const nameBytes = Buffer.from(name, 'utf8');
  const nameData = makeData({
    type: nameField.type,
    length: 1,
    nullCount: 0,
    valueOffsets: new Int32Array([0, nameBytes.length]),
    data: nameBytes,
  });
  const dims = Int32Array.from(tensor.shape);
  const shapeData = makeData({
    type: shapeField.type,
    length: 1,
    nullCount: 0,
    valueOffsets: new Int32Array([0, dims.length]),
    child: makeData({ type: new Int32(), length: dims.length, nullCount: 0, data: dims }),
  });
  const n = tensor.values.length;
  const valuesData = makeData({
    type: valuesField.type,
    length: 1,
    nullCount: 0,
    valueOffsets: new Int32Array([0, n]),
    // half: the rounded bit patterns, a new array; float32: the tensor's own buffer
    child: half
      ? makeData({ type: new Uint16(), length: n, nullCount: 0, data: toHalf(half, tensor.values) })
      : makeData({ type: new Float32(), length: n, nullCount: 0, data: tensor.values }),
  });
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length: 1, nullCount: 0, children: [nameData, shapeData, valuesData] }),
  );
}

/** Writes the tensors (in iteration order) to a new file at `path`, synced; returns size and sha256.
 * `dtype` bf16 or f16 stores each value rounded to nearest (ties to even) in 16 bits. */
export async function writeTensorTable(
  path: string,
  tensors: Iterable<[string, NamedTensor]>,
  dtype: StorageDtype = 'f32',
): Promise<WrittenFile & { tensors: number }> {
  if (dtype !== 'f32' && dtype !== 'bf16' && dtype !== 'f16')
    throw new RangeError(`writeTensorTable: dtype must be f32, bf16 or f16, got ${String(dtype)}`);
  const schema = tensorTableSchema(dtype);
  const file = await HashedFile.create(path);
  const writer = new IpcWriter(file, 'file');
  let count = 0;
  try {
    for (const [name, t] of tensors) {
      await writer.write(tensorBatch(schema, name, t));
      count++;
    }
    await writer.finish(schema);
    return { ...(await file.finish()), tensors: count };
  } catch (err) {
    writer.abort();
    await file.abort();
    throw err;
  }
}

/** The tensors of an IPC file's bytes, in row order, each with its own copy of the values (the
 * returned arrays do not keep the file's buffer alive). `file` names the source in errors. */
export function readTensorTable(bytes: Uint8Array, file: string): Array<[string, NamedTensor]> {
  let table;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    throw new Error(`${file}: not a readable Arrow IPC file (${err instanceof Error ? err.message : String(err)})`, {
      cause: err,
    });
  }
  const names = table.getChild('name'),
    shapes = table.getChild('shape'),
    values = table.getChild('values');
  if (!names || !shapes || !values)
    throw new Error(`${file}: expected columns name, shape, values; found ${table.schema.names.join(', ')}`);
  const half = halfDtypeOf(table.schema, file);
  const isValues = half ? isUint16 : isFloat32;
  const want = half ? `List<Uint16> (${half})` : 'List<Float32>';
  const out: Array<[string, NamedTensor]> = [];
  for (let r = 0; r < table.numRows; r++) {
    const name: unknown = names.get(r);
    const shape = shapes.get(r) as Vector<Int32> | null;
    const vals = values.get(r) as Vector<Float32 | Uint16> | null;
    if (typeof name !== 'string' || !shape || !vals || !isValues(vals.type))
      throw new Error(`${file}: row ${r} is not a (name Utf8, shape List<Int32>, values ${want}) tensor row`);
    // toArray is a view of the file's buffer; slice() copies it bytewise (NaN payloads included) and
    // fromHalf writes a new array, so each tensor owns its values
    const tensor = {
      shape: Array.from(shape.toArray() as Int32Array),
      values: half ? fromHalf(half, vals.toArray() as Uint16Array) : (vals.toArray() as Float32Array).slice(),
    };
    checkTensor(name, tensor, `${file} row ${r}`);
    out.push([name, tensor]);
  }
  return out;
}
