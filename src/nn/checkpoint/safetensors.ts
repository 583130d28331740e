// Weights as a safetensors file (the Hugging Face format PyTorch tooling loads): 8 bytes of header
// length (u64 little-endian), the JSON header, then the raw little-endian tensor data. Laid out as the
// reference serializer does, so the same tensors give the same bytes as its save_file: tensors sorted
// by name (all share one dtype, so alignment does not reorder them), `__metadata__` first, the header
// padded with spaces to a multiple of 8 bytes so every tensor's data is aligned. Stored as F32 (the
// float32 values as they are), or BF16 / F16: rounded to nearest even as PyTorch's `.to(dtype)` does
// (half-precision.ts), 2 bytes a value; a reader gets float32 back exactly only from F32.
import { endianness } from 'node:os';
import { AtomicFile } from '../../runtime/files.ts';
import { fromHalf, toHalf, type HalfDtype } from './half-precision.ts';
import type { NamedTensor, NamedTensors } from './types.ts';

/** The stored element types (safetensors' names). */
export type SafetensorsDtype = 'F32' | 'BF16' | 'F16';
const HALF: Record<SafetensorsDtype, HalfDtype | null> = { F32: null, BF16: 'bf16', F16: 'f16' };
const BYTES: Record<SafetensorsDtype, number> = { F32: 4, BF16: 2, F16: 2 };

export interface SafetensorsOptions {
  /** free-form string metadata; `format: 'pt'` is added unless given (transformers requires it);
   * null writes no `__metadata__` at all */
  metadata?: Record<string, string> | null;
  /** the exported name of each tensor (default: its name in the map, GPT-2 style already);
   * return null to leave a tensor out */
  mapName?: (name: string) => string | null;
  /** element type of every tensor in the file (default F32) */
  dtype?: SafetensorsDtype;
}

export interface SafetensorsHeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The reference's limit on header size; readers refuse larger headers. */
const MAX_HEADER = 100_000_000;
const bytewise = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** The exported (name, tensor) pairs in file order. */
function exported(tensors: NamedTensors, mapName: (name: string) => string | null): Array<[string, NamedTensor]> {
  const out = new Map<string, NamedTensor>();
  const from = new Map<string, string>();
  for (const [name, t] of tensors) {
    const to = mapName(name);
    if (to === null) continue;
    if (to === '' || to === '__metadata__')
      throw new RangeError(`safetensors: tensor "${name}" maps to the reserved name "${to}"`);
    if (out.has(to)) throw new RangeError(`safetensors: tensors "${from.get(to)}" and "${name}" both map to "${to}"`);
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.values.length)
      throw new RangeError(
        `safetensors: tensor "${name}" has shape [${t.shape.join(', ')}] but ${t.values.length} values`,
      );
    out.set(to, t);
    from.set(to, name);
  }
  return [...out].sort(([a], [b]) => bytewise(a, b));
}

/** Length prefix and padded JSON header for tensors in file order. */
export function safetensorsHeader(
  ordered: Array<[string, NamedTensor]>,
  metadata: Record<string, string>,
  dtype: SafetensorsDtype = 'F32',
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0)
    header.__metadata__ = Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => bytewise(a, b)));
  let offset = 0;
  for (const [name, t] of ordered) {
    const end = offset + BYTES[dtype] * t.values.length;
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, end] } satisfies SafetensorsHeaderEntry;
    offset = end;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  if (padded > MAX_HEADER)
    throw new RangeError(`safetensors: header of ${padded} bytes exceeds the format's ${MAX_HEADER}`);
  const out = Buffer.alloc(8 + padded, 0x20);
  out.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(out, 8);
  return out;
}

/** A tensor's data as little-endian bytes of `dtype`: for F32 a view of its buffer on little-endian hosts. */
function littleEndian(values: Float32Array, dtype: SafetensorsDtype): Uint8Array {
  const half = HALF[dtype];
  const data = half ? toHalf(half, values) : values;
  if (endianness() === 'LE') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Uint16Array) data.forEach((v, i) => view.setUint16(2 * i, v, true));
  else data.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

const withFormat = (metadata: Record<string, string> | null | undefined) =>
  metadata === null ? {} : { format: 'pt', ...metadata };

/** Writes `tensors` to `path` (under a temporary name, renamed when complete). */
export async function writeSafetensors(
  path: string,
  tensors: NamedTensors,
  opts: SafetensorsOptions = {},
): Promise<{ path: string; bytes: number; names: string[] }> {
  const ordered = exported(tensors, opts.mapName ?? ((n) => n));
  const dtype = checkDtype(opts.dtype);
  const file = new AtomicFile(path);
  try {
    await file.write(safetensorsHeader(ordered, withFormat(opts.metadata), dtype));
    for (const [, t] of ordered) await file.write(littleEndian(t.values, dtype));
    return { path: await file.commit(), bytes: file.bytes, names: ordered.map(([n]) => n) };
  } catch (err) {
    await file.abort();
    throw err;
  }
}

/** The whole file in memory (small exports and tests). */
export function encodeSafetensors(tensors: NamedTensors, opts: SafetensorsOptions = {}): Uint8Array {
  const ordered = exported(tensors, opts.mapName ?? ((n) => n));
  const dtype = checkDtype(opts.dtype);
  return Buffer.concat([
    safetensorsHeader(ordered, withFormat(opts.metadata), dtype),
    ...ordered.map(([, t]) => littleEndian(t.values, dtype)),
  ]);
}

function checkDtype(dtype: SafetensorsDtype = 'F32'): SafetensorsDtype {
  if (!Object.hasOwn(BYTES, dtype))
    throw new RangeError(`safetensors: dtype ${dtype} is not supported; use ${Object.keys(BYTES).join(', ')}`);
  return dtype;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  /** tensors in file (offset) order, values copied out of the file (BF16 and F16 widened to float32) */
  tensors: NamedTensors;
  /** the header as parsed, for inspection */
  header: Record<string, SafetensorsHeaderEntry>;
  /** where the data section starts (8 + header length) */
  dataStart: number;
}

/** Reads F32, BF16 or F16 safetensors bytes, checking what the reference reader checks: header size, JSON object,
 * offsets contiguous from 0 in order, each tensor's size matching its shape, data ending the file. */
export function readSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsFile {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8) throw new Error(`${source}: ${buf.length} bytes, shorter than the 8-byte header length`);
  const n = Number(buf.readBigUInt64LE(0));
  if (n > MAX_HEADER || 8 + n > buf.length)
    throw new Error(`${source}: header length ${n} is invalid for a file of ${buf.length} bytes`);
  const text = buf.toString('utf8', 8, 8 + n);
  if (!text.startsWith('{')) throw new Error(`${source}: header does not start with '{'`);
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const metadata = (parsed.__metadata__ ?? {}) as Record<string, string>;
  const header: Record<string, SafetensorsHeaderEntry> = {};
  for (const [name, e] of Object.entries(parsed))
    if (name !== '__metadata__') header[name] = e as SafetensorsHeaderEntry;
  const entries = Object.entries(header).sort(
    ([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0] || a.data_offsets[1] - b.data_offsets[1],
  );
  const dataStart = 8 + n;
  const tensors: NamedTensors = new Map();
  let at = 0;
  for (const [name, e] of entries) {
    const dtype = e.dtype as SafetensorsDtype;
    if (!Object.hasOwn(BYTES, dtype))
      throw new Error(`${source}: tensor "${name}" has dtype ${e.dtype}; this reader handles F32, BF16 and F16`);
    const [begin, end] = e.data_offsets;
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (begin !== at || end < begin)
      throw new Error(`${source}: tensor "${name}" data_offsets [${begin}, ${end}] do not continue at ${at}`);
    if (end - begin !== BYTES[dtype] * size)
      throw new Error(
        `${source}: tensor "${name}" holds ${end - begin} bytes, its ${dtype} shape [${e.shape.join(', ')}] ` +
          `needs ${BYTES[dtype] * size}`,
      );
    const raw = buf.subarray(dataStart + begin, dataStart + end);
    tensors.set(name, { shape: [...e.shape], values: decode(raw, dtype, size) });
    at = end;
  }
  if (dataStart + at !== buf.length)
    throw new Error(`${source}: data ends at byte ${dataStart + at} but the file has ${buf.length}`);
  return { metadata, tensors, header, dataStart };
}

/** Little-endian `dtype` bytes as float32 values (copied). */
function decode(raw: Buffer, dtype: SafetensorsDtype, size: number): Float32Array {
  const half = HALF[dtype];
  const LE = endianness() === 'LE';
  if (!half) {
    const values = new Float32Array(size);
    if (LE) new Uint8Array(values.buffer).set(raw);
    else for (let i = 0; i < size; i++) values[i] = raw.readFloatLE(4 * i);
    return values;
  }
  const bits = new Uint16Array(size);
  if (LE) new Uint8Array(bits.buffer).set(raw);
  else for (let i = 0; i < size; i++) bits[i] = raw.readUInt16LE(2 * i);
  return fromHalf(half, bits);
}
