// The crawl's saved state, resumed when its file exists: a JSON file at statePath with the pending
// entries, and the seen set's words (a 48 MB Bloom filter at the default bound: as base64 in the JSON
// that was 64 MB of text every 200 pages) as raw bytes in a side file next to it, which the JSON names
// with its length and sha256. Version 3:
//   { "version": 3, "pending": [...], "seen": { "mode", "n", "p", "file", "bytes", "sha256", "byteOrder" } }
// Versions 1 (seen as a list of URLs) and 2 (seen words as base64 in the JSON) are still read.
//
// Both files are written under temporary names and renamed into place, the side file first. Saves
// alternate between two side files (<name>.seen-a.bin, <name>.seen-b.bin), so the one the JSON on
// disk names is never the one being replaced: a crash at any point leaves a matching pair. A pair
// that does not match (a side file truncated, lost, or from another save) is reported, not resumed.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { endianness } from 'node:os';
import { AtomicFile } from '../../../src/runtime/files.ts';
import type { Entry, FrontierState } from './frontier.ts';
import type { SeenSnapshot } from './seen-set.ts';

/** The seen set as the version 3 JSON names it. */
interface SeenRef {
  mode: 'exact' | 'bloom';
  n: number;
  p: number;
  /** the side file, in the state file's directory */
  file: string;
  bytes: number;
  sha256: string;
  /** the words are stored in this machine's byte order */
  byteOrder: 'LE' | 'BE';
}

export class StateFile {
  /** the side file the state on disk names (the next save writes the other one) */
  private current?: string;
  /** whether load succeeded: a state that could not be read must not be overwritten by this run's */
  loaded = false;

  constructor(readonly path: string) {}

  /** The saved state, or undefined when there is none. Throws when it cannot be resumed, saying why. */
  async load(): Promise<FrontierState | undefined> {
    const { path } = this;
    if (!existsSync(path)) {
      this.loaded = true;
      return undefined;
    }
    const fail = (why: string): never => {
      throw new Error(`crawl state ${path}: ${why}`);
    };
    let s: Record<string, unknown> | null;
    try {
      s = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown> | null;
    } catch (err) {
      return fail(`not valid JSON (${String(err)}); delete it or point statePath elsewhere`);
    }
    const seen = s?.seen as Record<string, unknown> | undefined;
    if (!s || !Array.isArray(s.pending) || typeof seen !== 'object' || seen === null)
      return fail('not a flowlm crawl state (pending and seen); delete it or point statePath elsewhere');
    const pending = s.pending as Entry[];
    let state: FrontierState;
    if (s.version === 1) {
      if (!Array.isArray(seen)) fail('version 1 without its list of seen URLs; delete it or point statePath elsewhere');
      state = { pending, seen: seen as unknown as string[] };
    } else if (s.version === 2) {
      if (typeof seen.data !== 'string') fail('version 2 without its seen set; delete it or point statePath elsewhere');
      state = { pending, seen: { ...snapshotFields(seen, fail), words: fromB64(seen.data as string) } };
    } else state = await this.loadV3(s.version, pending, seen, fail);
    this.loaded = true;
    return state;
  }

  private async loadV3(
    version: unknown,
    pending: Entry[],
    seen: Record<string, unknown>,
    fail: (why: string) => never,
  ): Promise<FrontierState> {
    if (version !== 3) return fail(`version ${String(version)} is not one this crawler reads (1, 2 or 3)`);
    const ref = seen as unknown as SeenRef;
    const fields = snapshotFields(seen, fail);
    if (typeof ref.file !== 'string' || basename(ref.file) !== ref.file || typeof ref.bytes !== 'number')
      fail('its "seen" does not name a side file in the same directory with its length');
    if (ref.byteOrder !== endianness())
      fail(`its seen set was saved in ${ref.byteOrder} byte order, this machine is ${endianness()}; resume it there`);
    const words = await this.readSide(join(dirname(this.path), ref.file), ref, fail);
    this.current = ref.file;
    return { pending, seen: { ...fields, words } };
  }

  private async readSide(side: string, ref: SeenRef, fail: (why: string) => never): Promise<Uint32Array> {
    const afresh =
      `the state and its seen set no longer match: delete ${this.path} (and its .seen-*.bin files) ` +
      'to start afresh, or point statePath elsewhere';
    if (!existsSync(side)) fail(`its seen set ${side} is missing; ${afresh}`);
    const buf = await readFile(side);
    if (buf.byteLength !== ref.bytes)
      fail(
        `its seen set ${side} is ${buf.byteLength} bytes, the state says ${ref.bytes} ` +
          `(${buf.byteLength < ref.bytes ? 'truncated' : 'from another save'}); ${afresh}`,
      );
    if (createHash('sha256').update(buf).digest('hex') !== ref.sha256)
      fail(`its seen set ${side} does not have the sha256 the state names (damaged or from another save); ${afresh}`);
    if (buf.byteLength % 4 !== 0) fail(`its seen set ${side} is not whole 32-bit words; ${afresh}`);
    // a view when the buffer is 4-byte aligned (a file this size has a buffer of its own), else a copy
    if (buf.byteOffset % 4 === 0) return new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const out = new Uint32Array(buf.byteLength / 4);
    new Uint8Array(out.buffer).set(buf);
    return out;
  }

  /** Save the state: the side file, then the JSON that names it, each renamed into place when whole. */
  async save(s: FrontierState & { seen: SeenSnapshot }): Promise<void> {
    const { path } = this;
    mkdirSync(dirname(path), { recursive: true });
    const { mode, n, p, words } = s.seen;
    const file = sideName(path, this.current === sideName(path, 'a') ? 'b' : 'a');
    // the words are the seen set's own (a filter is not copied): the crawl admits no URL while it waits
    // for this save, and a change while writing would show as a sha256 mismatch on resume, not go unseen
    const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const seen: SeenRef = { mode, n, p, file, bytes: bytes.byteLength, sha256, byteOrder: endianness() };
    const side = new AtomicFile(join(dirname(path), file));
    const json = new AtomicFile(path);
    try {
      await side.write([bytes]); // as a list: AtomicFile then writes on until all of it is written
      await json.write(JSON.stringify({ version: 3, pending: s.pending, seen }));
      await Promise.all([side.prepare(), json.prepare()]); // both synced before either is published
      await side.publish();
      await json.publish();
    } catch (err) {
      await Promise.all([side.abort(), json.abort()]);
      throw err;
    }
    this.current = file;
  }
}

const sideName = (path: string, which: 'a' | 'b') => `${basename(path)}.seen-${which}.bin`;

function snapshotFields(seen: Record<string, unknown>, fail: (why: string) => never): Omit<SeenSnapshot, 'words'> {
  const { mode, n, p } = seen;
  if ((mode !== 'exact' && mode !== 'bloom') || typeof n !== 'number' || typeof p !== 'number')
    fail('its "seen" lacks mode (exact or bloom), n or p; delete it or point statePath elsewhere');
  return { mode: mode as SeenSnapshot['mode'], n: n as number, p: p as number };
}

function fromB64(s: string): Uint32Array {
  const buf = Buffer.from(s, 'base64');
  const out = new Uint32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}
