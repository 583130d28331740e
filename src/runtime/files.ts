// File helpers every reader and writer shares: glob expansion (Node 20 has no fs.glob), stable ids,
// and atomic writes (a temporary name renamed into place when complete).
import { hash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync, type Dirent } from 'node:fs';
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Glob pattern to RegExp: `*` within a segment, `**` across segments, `?`, `{a,b}`. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
        i += glob[i + 2] === '/' ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      re += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map(escape)
        .join('|')})`;
      i = end;
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`);
}
const escape = (s: string) => s.replace(/[.+^$()|[\]\\]/g, '\\$&');

const toSlash = (p: string) => (sep === '/' ? p : p.split(sep).join('/'));
const fromSlash = (p: string) => (sep === '/' ? p : p.split('/').join(sep));

/** Files matching each pattern (plain paths pass through), sorted within a pattern, deduplicated. */
export async function expandGlobs(patterns: readonly string[], cwd = process.cwd()): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of patterns) {
    const abs = resolve(cwd, p);
    if (!/[*?{]/.test(p)) {
      if (!existsSync(abs)) throw new Error(`no such file: ${abs}`);
      if (!seen.has(abs)) {
        seen.add(abs);
        out.push(abs);
      }
      continue;
    }
    const firstMagic = abs.search(/[*?{]/);
    const root = abs.slice(0, abs.lastIndexOf(sep, firstMagic));
    const rest = toSlash(abs.slice(root.length + 1));
    const re = globToRegExp(rest);
    // a pattern within one directory lists only that directory
    const entries = existsSync(root) ? await readdir(root, { recursive: rest.includes('/'), withFileTypes: true }) : [];
    // files; a symbolic link counts when what it points to is a file. Paths are put together by hand:
    // path.join and path.relative per entry made ~6 KB of garbage per file. (Dirent.parentPath is
    // Node >= 20.12; `path` before)
    const dirOf = (d: Dirent) => (d as { parentPath?: string }).parentPath ?? (d as unknown as { path: string }).path;
    const relOf = (d: Dirent) => {
      const dir = dirOf(d);
      return dir.length <= root.length ? d.name : `${toSlash(dir.slice(root.length + 1))}/${d.name}`;
    };
    const files = entries.filter(
      (d) => d.isFile() || (d.isSymbolicLink() && statSync(join(dirOf(d), d.name)).isFile()),
    );
    const matched = files
      .map(relOf)
      .filter((e) => re.test(e))
      .sort()
      .map((e) => `${root}${sep}${fromSlash(e)}`);
    if (matched.length === 0) throw new Error(`pattern matched no files: ${p}`);
    for (const f of matched)
      if (!seen.has(f)) {
        seen.add(f);
        out.push(f);
      }
  }
  return out;
}

/** `file` (absolute) relative to the working directory, as document ids name it: ids do not depend on
 * where the checkout is. */
export function fileKey(file: string): string {
  const cwd = process.cwd();
  if (file.length > cwd.length + 1 && file.startsWith(cwd) && file[cwd.length] === sep && !cwd.endsWith(sep))
    return file.slice(cwd.length + 1);
  return relative(cwd, file) || file;
}

/** A 16-hex-digit stable id (sha256 prefix) for a document key such as `path:offset` or a URL. */
export function stableId(key: string): string {
  // one-shot: a Hash object per document (a stream underneath) cost twice as much, once per document read
  return hash('sha256', key, 'hex').slice(0, 16);
}

// A large file's data is pushed to disk in the background as it is written, every SYNC_AHEAD bytes,
// so the sync that must finish before the rename has little left to do: at the end of a 10 MB shard
// it was a 6-11 ms wait with nothing else to do.
const SYNC_AHEAD = 4 << 20;

/** A file written under a temporary name in the same directory and renamed into place by `commit`.
 * `abort` removes it: a crash or failure leaves the old file or none, never half of one. */
export class AtomicFile {
  readonly tmp: string;
  private handle?: FileHandle;
  private unsynced = 0;
  private syncing?: Promise<unknown>;
  bytes = 0;
  constructor(readonly path: string) {
    this.tmp = join(
      dirname(path),
      `.flowlm-tmp-${process.pid}-${Math.random().toString(36).slice(2)}-${path.split(sep).pop()}`,
    );
  }
  /** Appends `data`; several chunks go in one writev call. */
  async write(data: Uint8Array | string | readonly Uint8Array[]): Promise<void> {
    this.handle ??= await open(this.tmp, 'w');
    if (Array.isArray(data)) {
      const chunks = data as readonly Uint8Array[];
      let total = 0;
      for (const c of chunks) total += c.byteLength;
      // writev may write less than asked (as write may); the rest goes in further calls
      for (let done = 0, k = 0, at = 0; done < total; ) {
        const { bytesWritten } = await this.handle.writev(
          at === 0 ? chunks.slice(k) : [chunks[k]!.subarray(at), ...chunks.slice(k + 1)],
        );
        done += bytesWritten;
        for (let n = bytesWritten; n > 0; ) {
          const left = chunks[k]!.byteLength - at;
          if (n >= left) {
            n -= left;
            k++;
            at = 0;
          } else {
            at += n;
            n = 0;
          }
        }
      }
      this.wrote(total);
      return;
    }
    const buf = typeof data === 'string' ? Buffer.from(data) : (data as Uint8Array);
    await this.handle.write(buf);
    this.wrote(buf.byteLength);
  }
  private wrote(n: number): void {
    this.bytes += n;
    this.unsynced += n;
    if (this.unsynced < SYNC_AHEAD || this.syncing) return;
    this.unsynced = 0;
    // an error here is the commit's (it awaits this); until then it must not go unhandled
    const s = this.handle!.datasync().then(() => {
      if (this.syncing === s) this.syncing = undefined;
    });
    s.catch(() => undefined);
    this.syncing = s;
  }
  /** Renames the file into place once all of it is on disk. */
  async commit(): Promise<string> {
    await this.prepare();
    return this.publish();
  }
  /** Everything written is on disk (synced, closed) under the temporary name. Several files can be
   * prepared at once (their syncs overlap) and published in the order that keeps them consistent. */
  async prepare(): Promise<void> {
    this.handle ??= await open(this.tmp, 'w');
    await this.syncing;
    await this.handle.sync();
    await this.handle.close();
  }
  /** Renames a prepared file into place. */
  async publish(): Promise<string> {
    await rename(this.tmp, this.path);
    return this.path;
  }
  async abort(): Promise<void> {
    await this.syncing?.catch(() => undefined);
    await this.handle?.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}

/** An AtomicFile at `path` (resolved against the working directory), its directory created. */
export function openAtomic(path: string): AtomicFile {
  const abs = resolve(path);
  mkdirSync(dirname(abs), { recursive: true });
  return new AtomicFile(abs);
}

/** A small file written whole under a temporary name and renamed into place (sync: reports, plots). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const f = new AtomicFile(path);
  writeFileSync(f.tmp, data);
  renameSync(f.tmp, path);
}
