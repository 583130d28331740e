// Writes that survive a crash once they return: file contents are fsynced before the directory that
// names them is, and the directory entry itself is fsynced after a rename. The bytes are hashed as
// they are written so the checksum costs no second read.
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

export interface WrittenFile {
  bytes: number;
  sha256: string;
}

/** A new file, written sequentially, hashed on the way, synced and closed by `finish`. */
export class HashedFile {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private constructor(private readonly handle: FileHandle) {}

  static async create(path: string): Promise<HashedFile> {
    return new HashedFile(await open(path, 'wx'));
  }

  async write(data: Uint8Array): Promise<void> {
    this.hash.update(data);
    let done = 0;
    while (done < data.byteLength) done += (await this.handle.write(data, done)).bytesWritten;
    this.bytes += data.byteLength;
  }

  async finish(): Promise<WrittenFile> {
    await this.handle.sync();
    await this.handle.close();
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/** A whole file written, synced and hashed. */
export async function writeDurable(path: string, data: Uint8Array | string): Promise<WrittenFile> {
  const file = await HashedFile.create(path);
  try {
    await file.write(typeof data === 'string' ? Buffer.from(data) : data);
    return await file.finish();
  } catch (err) {
    await file.abort();
    throw err;
  }
}

/** fsync a directory so the names created or renamed in it are on disk. Platforms that cannot open
 * a directory for sync (Windows) keep their own ordering; there it is a no-op. */
export async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw err;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
