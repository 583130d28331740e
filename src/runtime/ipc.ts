// Record batches as messages between threads: the fields as an Arrow IPC schema message (encoded once
// per distinct field list, decoded once per distinct message), the schema's metadata as pairs, the
// column data as a list of nodes (offset, length, null count, buffers) and every buffer copied once
// into one ArrayBuffer that is transferred, not cloned. A buffer already in shared memory (a reader's
// text, see ingest/doc-batcher.ts) is not copied: the other thread gets the SharedArrayBuffer itself,
// read-only like every batch buffer. Reading back makes views into those buffers.
// This is Arrow IPC's layout without its per-batch flatbuffers (schema, dictionary and record batch
// messages written and parsed for every batch): on the main thread of a parallel stage that was half
// of its per-batch cost. A kernel's reply ships only the columns it changed; the others are taken
// from the input batch the main thread holds.
import {
  Data,
  DataType,
  Dictionary,
  Field,
  makeData,
  Message,
  RecordBatch,
  Schema,
  Struct,
  Vector,
} from 'apache-arrow';
import { sharedBytes } from './shared-memory.ts';

/** A batch ready for postMessage: transfer `body` (see transferList). */
export interface PackedBatch {
  /** Arrow IPC schema message of the fields (without the schema's metadata) */
  schema: Uint8Array;
  /** the schema's metadata, if it has entries */
  metadata?: Array<[string, string]>;
  length: number;
  /** per Data node, depth first: offset, length, null count, child count, then for each of its four
   * buffers (offsets, values, validity, type ids) an array kind (-1: none), where it is (-1: the body,
   * k: shared[k]), byte offset and length; a dictionary column's node is followed by its dictionary's
   * chunk count and chunks */
  nodes: number[];
  /** the copied buffers: transferred, or (a worker's reply) shared memory the receiver reads in place */
  body: ArrayBuffer | SharedArrayBuffer;
  /** buffers in shared memory the batch uses, sent as they are */
  shared?: SharedArrayBuffer[];
  /** bytes of `shared` the batch's columns take (what pacing counts, not the whole buffers) */
  sharedBytes?: number;
}

/** The bytes a packed batch carries: its body and its views of shared memory. */
export const packedBytes = (p: PackedBatch): number => p.body.byteLength + (p.sharedBytes ?? 0);

/** The bytes of a packed batch in shared memory (the receiver's to pace collections by). */
export const packedSharedBytes = (p: PackedBatch): number =>
  (p.body instanceof SharedArrayBuffer ? p.body.byteLength : 0) + (p.sharedBytes ?? 0);

export const transferList = (p: PackedBatch): ArrayBuffer[] => (p.body instanceof ArrayBuffer ? [p.body] : []);

const ARRAYS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;
type AnyArray = InstanceType<(typeof ARRAYS)[number]>;
const kindOf = (a: ArrayBufferView) => ARRAYS.findIndex((C) => a instanceof C && a.constructor === C);

// Arrow makes a new Schema, with new Field objects, for every RecordBatch it constructs, so a cache keyed
// by the schema object missed on every batch, and the flatbuffers encoding and decoding of the schema
// (with the JIT work for them on V8's helper threads, competing with the workers for cores) was paid
// per batch on both sides. The fields are encoded once per distinct (name, type object, nullability,
// field metadata) list; the schema's own metadata, which kernels change per batch (stats), travels
// beside them as plain pairs.
interface Encoded {
  fields: Field[];
  bytes: Uint8Array;
}
const encoded = new WeakMap<DataType, Encoded[]>();
const sameMeta = (a: Map<string, string>, b: Map<string, string>) => {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
};
const sameFields = (a: Field[], b: Field[]) =>
  a.length === b.length &&
  a.every((f, i) => {
    const g = b[i]!;
    return (
      f === g ||
      (f.name === g.name && f.type === g.type && f.nullable === g.nullable && sameMeta(f.metadata, g.metadata))
    );
  });
function encodeFields(fields: Field[]): Uint8Array {
  if (fields.length === 0) return Message.encode(Message.from(new Schema([])));
  const list = encoded.get(fields[0]!.type) ?? [];
  const hit = list.find((e) => sameFields(e.fields, fields));
  if (hit) return hit.bytes;
  const bytes = Message.encode(Message.from(new Schema(fields)));
  if (list.length >= 16) list.shift();
  list.push({ fields, bytes });
  encoded.set(fields[0]!.type, list);
  return bytes;
}

const schemas = new Map<string, Schema>();
function decodeSchema(bytes: Uint8Array, metadata: Array<[string, string]> | undefined): Schema {
  const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  let s = schemas.get(key);
  if (!s) {
    s = Message.decode(bytes).header() as Schema;
    if (schemas.size >= 256) schemas.clear();
    schemas.set(key, s);
  }
  // a schema object per batch, as Arrow would make (recordKernelStats edits a batch's metadata in place)
  return new Schema(s.fields, new Map(metadata), s.dictionaries);
}

// `new RecordBatch(schema, data)` passes through Arrow's ensureSameLengthData, which clones every field
// and the schema (and the JIT keeps compiling that code on V8's helper threads): 2 of the 4 batches a
// parallel stage builds per batch are on the main thread. When every column has the batch's length,
// that step changes nothing, so the batch is built from the schema as it is.
interface BatchSlots {
  schema: Schema;
  data: Data<Struct>;
  _metadata: Map<string, string>;
}
function assemble(schema: Schema, children: Data[], length: number): RecordBatch {
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  if (children.some((c) => c.length !== length)) return new RecordBatch(schema, data);
  const b = Object.create(RecordBatch.prototype) as BatchSlots;
  b.schema = schema;
  b.data = data;
  b._metadata = new Map();
  return b as unknown as RecordBatch;
}

/** One batch as a PackedBatch; its buffers are copied into the body (the batch stays usable), which
 * is in shared memory when `sharedBody` (runtime/shared-memory.ts). */
export function packBatch(batch: RecordBatch, sharedBody = false): PackedBatch {
  const nodes: number[] = [];
  const views: ArrayBufferView[] = [];
  const shared: SharedArrayBuffer[] = [];
  let size = 0,
    sharedSize = 0;
  const visit = (d: Data) => {
    if (d.variadicBuffers.length > 0)
      throw new Error(`column type ${d.type} (variadic buffers) cannot be sent to a worker thread`);
    nodes.push(d.offset, d.length, d.nullCount, d.children.length);
    for (const b of [d.valueOffsets, d.values, d.nullBitmap, d.typeIds] as Array<ArrayBufferView | undefined>) {
      if (!b || b.byteLength === 0) {
        nodes.push(-1, -1, 0, 0);
        continue;
      }
      const kind = kindOf(b);
      if (kind < 0)
        throw new Error(`column type ${d.type} holds a ${b.constructor.name}, which cannot be sent to a worker thread`);
      const n = b.byteLength / ARRAYS[kind]!.BYTES_PER_ELEMENT;
      if (b.buffer instanceof SharedArrayBuffer) {
        let k = shared.indexOf(b.buffer);
        if (k < 0) k = shared.push(b.buffer) - 1;
        nodes.push(kind, k, b.byteOffset, n);
        sharedSize += b.byteLength;
        continue;
      }
      size = (size + 7) & ~7;
      nodes.push(kind, -1, size, n);
      views.push(b);
      size += b.byteLength;
    }
    for (const c of d.children) visit(c);
    if (DataType.isDictionary(d.type)) {
      const chunks = d.dictionary?.data ?? [];
      nodes.push(chunks.length);
      for (const c of chunks) visit(c);
    }
  };
  for (const c of batch.data.children) visit(c);
  // not zero-filled (every byte is written below, the alignment gaps too): a parallel stage packs
  // every batch, so zeroing first would touch all its bytes twice; allocUnsafeSlow's buffer is its
  // own (not from Node's pool), so it can be transferred
  const bytes = sharedBody ? sharedBytes(size) : Buffer.allocUnsafeSlow(size);
  const body = bytes.buffer as ArrayBuffer | SharedArrayBuffer;
  let at = 0;
  for (const v of views) {
    const start = (at + 7) & ~7;
    if (start > at) bytes.fill(0, at, start);
    bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), start);
    at = start + v.byteLength;
  }
  const packed: PackedBatch = { schema: encodeFields(batch.schema.fields), length: batch.numRows, nodes, body };
  if (shared.length > 0) {
    packed.shared = shared;
    packed.sharedBytes = sharedSize;
  }
  if (batch.schema.metadata.size > 0) packed.metadata = [...batch.schema.metadata];
  return packed;
}

/** The batch a PackedBatch holds; its columns are views into `p.body`. */
export function unpackBatch(p: PackedBatch): RecordBatch {
  const schema = decodeSchema(p.schema, p.metadata);
  let k = 0;
  const next = () => {
    const v = p.nodes[k++];
    if (v === undefined) throw new Error('batch message ends early (its nodes do not match its schema)');
    return v;
  };
  const read = (type: DataType): Data => {
    const [offset, length, nullCount, childCount] = [next(), next(), next(), next()];
    const buffers: Array<AnyArray | undefined> = [];
    for (let b = 0; b < 4; b++) {
      const [kind, where, byteOffset, n] = [next(), next(), next(), next()];
      const from = where < 0 ? p.body : p.shared?.[where];
      if (!from) throw new Error(`batch message names shared buffer ${where}, which it does not carry`);
      // (the typed array constructors take shared memory too; TypeScript's lib types say ArrayBuffer)
      buffers.push(kind < 0 ? undefined : new ARRAYS[kind]!(from as ArrayBuffer, byteOffset, n));
    }
    const fields: Field[] = DataType.isDictionary(type) ? [] : (type.children ?? []);
    if (fields.length !== childCount)
      throw new Error(`batch message: a ${type} column has ${childCount} children, its type ${fields.length}`);
    const children = fields.map((f) => read(f.type));
    let dictionary: Vector | undefined;
    if (DataType.isDictionary(type)) {
      const chunks: Data[] = [];
      for (let c = next(); c > 0; c--) chunks.push(read((type as Dictionary).dictionary));
      dictionary = new Vector(chunks);
    }
    return new Data(type, offset, length, nullCount, buffers as never, children, dictionary);
  };
  const children = schema.fields.map((f) => read(f.type));
  if (k !== p.nodes.length) throw new Error('batch message has more nodes than its schema has columns');
  return assemble(schema, children, p.length);
}

/** A kernel's output relative to its input: for each output column, the index of the input column it
 * reuses unchanged (>= 0) or -1-m for column m of `packed`; `same` when the output is the input. */
export interface BatchDelta {
  layout: number[];
  packed?: PackedBatch;
  same?: boolean;
  /** the output's schema metadata when no column is shipped (kernels report stats there) */
  metadata?: Array<[string, string]>;
}

export function diffBatch(input: RecordBatch, output: RecordBatch, sharedBody = false): BatchDelta {
  if (output === input) return { layout: [], same: true };
  const sameRows = output.numRows === input.numRows;
  const layout: number[] = [];
  const fields: Field[] = [];
  const children: Data[] = [];
  output.schema.fields.forEach((f, j) => {
    const k = sameRows ? input.data.children.indexOf(output.data.children[j]!) : -1;
    if (k >= 0 && sameField(input.schema.fields[k]!, f)) {
      layout.push(k);
      return;
    }
    layout.push(-1 - fields.length);
    fields.push(f);
    children.push(output.data.children[j]!);
  });
  if (fields.length === 0) return { layout, metadata: [...output.schema.metadata] };
  const schema = new Schema(fields, output.schema.metadata);
  const shipped = assemble(schema, children, output.numRows);
  return { layout, packed: packBatch(shipped, sharedBody) };
}

// Arrow may rebuild Field objects when it makes a batch, so fields are compared by value (the column's
// data, and so its type, is already known to be the same object).
function sameField(a: Field, b: Field): boolean {
  if (a === b) return true;
  if (a.name !== b.name || a.nullable !== b.nullable || a.metadata.size !== b.metadata.size) return false;
  for (const [k, v] of a.metadata) if (b.metadata.get(k) !== v) return false;
  return true;
}

/** The kernel's output rebuilt on the main thread from the input and a delta. */
export function applyDelta(input: RecordBatch, delta: BatchDelta): RecordBatch {
  if (delta.same) return input;
  const shipped = delta.packed ? unpackBatch(delta.packed) : undefined;
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const at of delta.layout) {
    const from = at >= 0 ? input : shipped;
    const i = at >= 0 ? at : -1 - at;
    if (!from || !from.schema.fields[i]) throw new Error(`worker reply names column ${at}, which does not exist`);
    const [field, data] =
      at >= 0
        ? [from.schema.fields[i]!, from.data.children[i]!]
        : ownDictionaryId(from.schema.fields[i]!, from.data.children[i]!);
    fields.push(field);
    children.push(data);
  }
  const schema = new Schema(fields, new Map(shipped?.schema.metadata ?? delta.metadata ?? input.schema.metadata));
  return assemble(schema, children, shipped?.numRows ?? input.numRows);
}

/** Dictionary ids come from a per-thread counter, so a dictionary column made on a worker may carry
 * an id the main thread already uses (Arrow then refuses the schema): give it a fresh main-thread id. */
function ownDictionaryId(field: Field, data: Data): [Field, Data] {
  if (!DataType.isDictionary(field.type)) return [field, data];
  const t = field.type as Dictionary;
  const type = new Dictionary(t.dictionary, t.indices, null, t.isOrdered);
  return [new Field(field.name, type, field.nullable, field.metadata), data.clone(type)];
}
