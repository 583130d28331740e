// The compact binary file a dedup index is saved to: a magic line, a JSON header (kind, the
// fingerprint of the settings that make the index meaningful, small counters, the array list), then
// each typed array's raw bytes, 8-byte aligned. Written through AtomicFile, so a crash mid-save leaves
// the previous file, never half of one.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { AtomicFile } from '../../src/runtime/files.ts';

const MAGIC = 'FLOWLM-DEDUP-STATE 1\n';
type Typed = Uint32Array | Int32Array | Uint16Array;
const CTORS = { u32: Uint32Array, i32: Int32Array, u16: Uint16Array } as const;
type Kind = keyof typeof CTORS;
const kindOf = (a: Typed): Kind => (a instanceof Uint32Array ? 'u32' : a instanceof Int32Array ? 'i32' : 'u16');

export interface StateHeader {
  kind: string;
  /** settings that must match for the saved index to mean anything (hash seeds, shingles, bounds) */
  fingerprint: Record<string, unknown>;
  /** counters and other small values */
  meta: Record<string, number | number[]>;
}

export interface LoadedState extends StateHeader {
  arrays: Map<string, Typed>;
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;

export async function saveState(path: string, header: StateHeader, arrays: Record<string, Typed>): Promise<void> {
  const list = Object.entries(arrays).map(([name, a]) => ({ name, type: kindOf(a), length: a.length }));
  const head = Buffer.from(JSON.stringify({ ...header, arrays: list }));
  const prefix = Buffer.alloc(MAGIC.length + 4);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(head.length, MAGIC.length);
  const file = new AtomicFile(path);
  try {
    await file.write(prefix);
    await file.write(head);
    let at = prefix.length + head.length;
    for (const a of Object.values(arrays)) {
      const gap = pad8(at);
      if (gap) {
        await file.write(new Uint8Array(gap));
        at += gap;
      }
      await file.write(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      at += a.byteLength;
    }
    await file.commit();
  } catch (err) {
    await file.abort();
    throw err;
  }
}

/** The saved state, or undefined when there is no file yet. Throws on a damaged or foreign file. */
export async function loadState(
  path: string,
  kind: string,
  fingerprint: Record<string, unknown>,
): Promise<LoadedState | undefined> {
  if (!existsSync(path)) return undefined;
  const buf = await readFile(path);
  const fail = (why: string): never => {
    throw new Error(`dedup state file ${path}: ${why}`);
  };
  if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC)
    fail('not a flowlm dedup state file (bad magic); move it away or point statePath elsewhere');
  const headLen = buf.readUInt32LE(MAGIC.length);
  let header: StateHeader & { arrays: Array<{ name: string; type: Kind; length: number }> };
  try {
    header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + headLen)) as typeof header;
  } catch {
    return fail('header is not valid JSON (truncated or damaged file); delete it to start a fresh index');
  }
  if (header.kind !== kind) fail(`holds a "${header.kind}" index, this operator keeps "${kind}"`);
  const want = JSON.stringify(fingerprint),
    got = JSON.stringify(header.fingerprint);
  if (want !== got)
    fail(
      `was saved with different settings ${got}; this operator has ${want}. Use the same settings or delete the ` +
        `file to start a fresh index`,
    );
  const arrays = new Map<string, Typed>();
  let at = MAGIC.length + 4 + headLen;
  for (const { name, type, length } of header.arrays) {
    at += pad8(at);
    const Ctor = CTORS[type];
    const bytes = length * Ctor.BYTES_PER_ELEMENT;
    if (at + bytes > buf.length)
      fail(`array "${name}" runs past the end of the file (truncated); delete it to start a fresh index`);
    const copy = new Ctor(length); // aligned copy: the file buffer's offset may not be
    new Uint8Array(copy.buffer).set(buf.subarray(at, at + bytes));
    arrays.set(name, copy);
    at += bytes;
  }
  return { kind: header.kind, fingerprint: header.fingerprint, meta: header.meta, arrays };
}

/** The named array of a loaded state, checked for type. */
export function arrayOf<K extends Kind>(state: LoadedState, name: string, type: K): InstanceType<(typeof CTORS)[K]> {
  const a = state.arrays.get(name);
  if (!a || kindOf(a) !== type)
    throw new Error(
      `dedup state (${state.kind}): array "${name}" missing or not ${type}; the file is from another version, ` +
        `delete it`,
    );
  return a as InstanceType<(typeof CTORS)[K]>;
}
