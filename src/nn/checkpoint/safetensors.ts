// Weights as a safetensors file (the Hugging Face format PyTorch tooling loads): 8 bytes of header
// length (u64 little-endian), the JSON header, then the raw little-endian tensor data. Laid out as the
// reference serializer does, so the same tensors give the same bytes as its save_file: tensors sorted
// by name (all are F32, so alignment does not reorder them), `__metadata__` first, the header padded
// with spaces to a multiple of 8 bytes so every tensor's data is aligned.
import { endianness } from 'node:os';
import { AtomicFile } from '../../runtime/files.ts';
import type { NamedTensor, NamedTensors } from './types.ts';

export interface SafetensorsOptions {
  /** free-form string metadata; `format: 'pt'` is added unless given (transformers requires it);
   * null writes no `__metadata__` at all */
  metadata?: Record<string, string> | null;
  /** the exported name of each tensor (default: its name in the map, GPT-2 style already);
   * return null to leave a tensor out */
  mapName?: (name: string) => string | null;
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
export function safetensorsHeader(ordered: Array<[string, NamedTensor]>, metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0)
    header.__metadata__ = Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => bytewise(a, b)));
  let offset = 0;
  for (const [name, t] of ordered) {
    const end = offset + t.values.byteLength;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, end] } satisfies SafetensorsHeaderEntry;
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

/** A tensor's data as little-endian bytes: a view of its buffer on little-endian hosts. */
function littleEndian(values: Float32Array): Uint8Array {
  if (endianness() === 'LE') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.byteLength);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
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
  const file = new AtomicFile(path);
  try {
    await file.write(safetensorsHeader(ordered, withFormat(opts.metadata)));
    for (const [, t] of ordered) await file.write(littleEndian(t.values));
    return { path: await file.commit(), bytes: file.bytes, names: ordered.map(([n]) => n) };
  } catch (err) {
    await file.abort();
    throw err;
  }
}

/** The whole file in memory (small exports and tests). */
export function encodeSafetensors(tensors: NamedTensors, opts: SafetensorsOptions = {}): Uint8Array {
  const ordered = exported(tensors, opts.mapName ?? ((n) => n));
  return Buffer.concat([
    safetensorsHeader(ordered, withFormat(opts.metadata)),
    ...ordered.map(([, t]) => littleEndian(t.values)),
  ]);
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  /** tensors in file (offset) order, values copied out of the file */
  tensors: NamedTensors;
  /** the header as parsed, for inspection */
  header: Record<string, SafetensorsHeaderEntry>;
  /** where the data section starts (8 + header length) */
  dataStart: number;
}

/** Reads F32 safetensors bytes, checking what the reference reader checks: header size, JSON object,
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
    if (e.dtype !== 'F32')
      throw new Error(`${source}: tensor "${name}" has dtype ${e.dtype}; this reader handles F32 only`);
    const [begin, end] = e.data_offsets;
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (begin !== at || end < begin)
      throw new Error(`${source}: tensor "${name}" data_offsets [${begin}, ${end}] do not continue at ${at}`);
    if (end - begin !== 4 * size)
      throw new Error(
        `${source}: tensor "${name}" holds ${end - begin} bytes, its shape [${e.shape.join(', ')}] needs ${4 * size}`,
      );
    const raw = buf.subarray(dataStart + begin, dataStart + end);
    const values = new Float32Array(size);
    if (endianness() === 'LE') new Uint8Array(values.buffer).set(raw);
    else for (let i = 0; i < size; i++) values[i] = raw.readFloatLE(4 * i);
    tensors.set(name, { shape: [...e.shape], values });
    at = end;
  }
  if (dataStart + at !== buf.length)
    throw new Error(`${source}: data ends at byte ${dataStart + at} but the file has ${buf.length}`);
  return { metadata, tensors, header, dataStart };
}
