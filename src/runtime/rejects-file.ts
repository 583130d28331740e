// The rejects file: JSON Lines, one object per record a reader skipped or row an operator dropped,
// written under a temporary name and renamed into place when closed (so a half-written file is never
// visible). Readers await each write; a row kernel's boundary queues them (`append`) so the stream does
// not wait for the disk, and the close waits for all of them.
import { openAtomic, type AtomicFile } from './files.ts';

/** A record's raw text is cut to this many characters in the file. */
export const RECORD_CHARS = 4096;

export class RejectsFile {
  private readonly file: AtomicFile;
  private tail: Promise<void> = Promise.resolve();

  /** `path` is resolved against the working directory; its directory is created. */
  constructor(path: string) {
    this.file = openAtomic(path);
  }

  get path(): string {
    return this.file.path;
  }

  /** Appends one line per object, after everything written before. */
  write(objects: readonly object[]): Promise<void> {
    if (objects.length === 0) return this.tail;
    const text = objects.map((o) => JSON.stringify(o)).join('\n') + '\n';
    const next = this.tail.then(() => this.file.write(text));
    this.tail = next;
    return next;
  }

  /** As write, without waiting: a failed write fails the close. */
  append(objects: readonly object[]): void {
    this.write(objects).catch(() => undefined);
  }

  /** Waits for every write, then puts the file in place (an empty file when nothing was rejected). */
  async close(): Promise<void> {
    await this.tail;
    await this.file.commit();
  }
}
