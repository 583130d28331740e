// Record batches as Arrow IPC stream bytes, so they cross to worker threads as one transferable
// ArrayBuffer: serialising is the only copy (the buffer is moved, not cloned), and reading back makes
// views into the buffer. A kernel's reply ships only the columns it changed; the others are taken from
// the input batch the main thread still holds.
import { DataType, Dictionary, Field, makeData, RecordBatch, Schema, Struct, Table, tableFromIPC, tableToIPC, type Data } from 'apache-arrow';

/** One batch as IPC stream bytes in an ArrayBuffer of its own (ready for a transfer list). */
export function batchToIPC(batch: RecordBatch): ArrayBuffer {
  const bytes = tableToIPC(new Table(batch), 'stream');
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return whole ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
}

/** The batch held by `batchToIPC` bytes; its columns are views into `buffer`. */
export function batchFromIPC(buffer: ArrayBuffer): RecordBatch {
  const batches = tableFromIPC(new Uint8Array(buffer)).batches;
  if (batches.length !== 1) throw new Error(`expected one record batch in the IPC message, found ${batches.length}`);
  return batches[0]!;
}

/** A kernel's output relative to its input: for each output column, the index of the input column it
 * reuses unchanged (>= 0) or -1-m for column m of `bytes`; `same` when the output is the input. */
export interface BatchDelta {
  layout: number[]; bytes?: ArrayBuffer; same?: boolean;
  /** the output's schema metadata when no column is shipped (kernels report stats there) */
  metadata?: Array<[string, string]>;
}

export function diffBatch(input: RecordBatch, output: RecordBatch): BatchDelta {
  if (output === input) return { layout: [], same: true };
  const sameRows = output.numRows === input.numRows;
  const layout: number[] = [];
  const fields: Field[] = [];
  const children: Data[] = [];
  output.schema.fields.forEach((f, j) => {
    const k = sameRows ? input.data.children.indexOf(output.data.children[j]!) : -1;
    if (k >= 0 && sameField(input.schema.fields[k]!, f)) { layout.push(k); return; }
    layout.push(-1 - fields.length);
    fields.push(f);
    children.push(output.data.children[j]!);
  });
  if (fields.length === 0) return { layout, metadata: [...output.schema.metadata] };
  const schema = new Schema(fields, output.schema.metadata);
  const shipped = new RecordBatch(schema, makeData({ type: new Struct(fields), length: output.numRows, nullCount: 0, children }));
  return { layout, bytes: batchToIPC(shipped) };
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
  const shipped = delta.bytes ? batchFromIPC(delta.bytes) : undefined;
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const at of delta.layout) {
    const from = at >= 0 ? input : shipped;
    const i = at >= 0 ? at : -1 - at;
    if (!from || !from.schema.fields[i]) throw new Error(`worker reply names column ${at}, which does not exist`);
    const [field, data] = at >= 0 ? [from.schema.fields[i]!, from.data.children[i]!] : ownDictionaryId(from.schema.fields[i]!, from.data.children[i]!);
    fields.push(field);
    children.push(data);
  }
  const schema = new Schema(fields, shipped?.schema.metadata ?? new Map(delta.metadata ?? input.schema.metadata));
  const length = shipped?.numRows ?? input.numRows;
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }));
}

/** Dictionary ids come from a per-thread counter, so a dictionary column made on a worker may carry
 * an id the main thread already uses (Arrow then refuses the schema): give it a fresh main-thread id. */
function ownDictionaryId(field: Field, data: Data): [Field, Data] {
  if (!DataType.isDictionary(field.type)) return [field, data];
  const t = field.type as Dictionary;
  const type = new Dictionary(t.dictionary, t.indices, null, t.isOrdered);
  return [new Field(field.name, type, field.nullable, field.metadata), data.clone(type)];
}
