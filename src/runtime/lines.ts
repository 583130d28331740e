// Lines of a file (gzip-compressed when the name ends in .gz) as byte slices, streamed in chunks so
// memory stays bounded by the chunk size plus the longest line kept (lines longer than `maxLineBytes`
// are reported, not buffered). Lines are split on bytes: 0x0A never occurs inside a UTF-8 sequence,
// so each line can be validated and decoded on its own.
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import type { BadRecord } from './rejects.ts';

export interface ByteLine {
  /** the line without its '\n' (a trailing '\r' is kept); empty when `tooLong`. It may share a reused
   * read buffer: valid until the generator is resumed, so decode or copy it before asking for more. */
  bytes: Buffer;
  /** byte offset of the line's first byte in the (decompressed) content */
  offset: number;
  /** 1-based line number */
  line: number;
  /** set when the line exceeded maxLineBytes: its bytes were discarded, `length` says how many there were */
  tooLong?: { length: number };
}

/** The compressed input ended or broke before the end of the stream; lines before it were delivered. */
export class CompressedInputError extends Error {
  override readonly name = 'CompressedInputError';
  constructor(
    message: string,
    readonly compressedOffset: number,
    readonly offset: number,
    readonly truncated: boolean,
  ) {
    super(message);
  }

  /** What a reader of `file` reports for it; `kept`: what came before it and was kept ("lines"). */
  badRecord(file: string, kept: string): BadRecord {
    return {
      reason: this.truncated ? 'truncated gzip' : 'corrupt gzip',
      detail: `${this.message} at compressed byte ${this.compressedOffset} (decompressed byte ${this.offset}); ${kept} before it were kept`,
      where: { file, offset: this.compressedOffset },
    };
  }
}

export interface LineOptions {
  /** default 64 MiB */
  maxLineBytes?: number;
  /** read size; default 1 MiB */
  chunkBytes?: number;
}

/** Yields the lines completed by each chunk read (arrays, so per-line await overhead stays small). A
 * final line without '\n' is yielded too. Throws CompressedInputError after the last complete line of
 * a truncated or corrupt .gz file. */
export async function* readLines(file: string, opts: LineOptions = {}): AsyncGenerator<ByteLine[]> {
  const maxLine = opts.maxLineBytes ?? 64 * 1024 * 1024;
  const chunkBytes = opts.chunkBytes ?? 1 << 20;
  const raw = file.endsWith('.gz') ? createReadStream(file, { highWaterMark: chunkBytes }) : undefined;
  const gunzip: Gunzip | undefined = raw ? createGunzip({ chunkSize: 1 << 16 }) : undefined;
  const piped = raw && gunzip ? pipeline(raw, gunzip).catch(() => undefined) : undefined; // errors surface via the iteration below
  const stream: AsyncIterable<Buffer> = gunzip ?? plainChunks(file, chunkBytes);
  let parts: Buffer[] = [];
  let partBytes = 0;
  let discarded = 0; // bytes of an over-long line not kept
  let lineStart = 0;
  let lineNo = 1;
  let pos = 0; // offset of the current chunk
  const take = (out: ByteLine[], tail: Buffer) => {
    const length = partBytes + discarded + tail.length;
    if (discarded > 0 || length > maxLine)
      out.push({ bytes: Buffer.alloc(0), offset: lineStart, line: lineNo, tooLong: { length } });
    else
      out.push({ bytes: parts.length === 0 ? tail : Buffer.concat([...parts, tail]), offset: lineStart, line: lineNo });
    parts = [];
    partBytes = 0;
    discarded = 0;
    lineNo++;
  };
  try {
    for await (const chunk of stream) {
      let from = 0;
      if (pos === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) lineStart = from = 3; // UTF-8 byte order mark
      const out: ByteLine[] = [];
      for (let nl = chunk.indexOf(10, from); nl >= 0; nl = chunk.indexOf(10, from)) {
        take(out, chunk.subarray(from, nl));
        from = nl + 1;
        lineStart = pos + from;
      }
      const rest = chunk.subarray(from);
      if (partBytes + discarded + rest.length > maxLine) {
        discarded += partBytes + rest.length;
        parts = [];
        partBytes = 0;
      } else if (rest.length > 0) {
        parts.push(Buffer.from(rest)); // a copy, so the chunk it came from can be freed
        partBytes += rest.length;
      }
      pos += chunk.length;
      if (out.length > 0) yield out;
    }
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (!gunzip || typeof code !== 'string' || !code.startsWith('Z_')) throw err;
    const truncated = code === 'Z_BUF_ERROR';
    const why = truncated
      ? 'truncated gzip data (unexpected end of file)'
      : `corrupt gzip data (${err instanceof Error ? err.message : String(err)})`;
    throw new CompressedInputError(why, gunzip.bytesWritten, pos, truncated);
  } finally {
    raw?.destroy();
    gunzip?.destroy();
    await piped;
  }
  if (partBytes + discarded > 0) {
    const out: ByteLine[] = [];
    take(out, Buffer.alloc(0));
    yield out;
  }
}

/** A plain file's bytes in one reused buffer (no bigger than the file): reading makes no garbage, so
 * memory stays flat without waiting for the garbage collector. The calls are synchronous, one chunk
 * at a time with a turn of the event loop after each: fs/promises costs ~15x the CPU per small file
 * (file handle objects, promises), which on a corpus of many small files was more than the reading. */
async function* plainChunks(file: string, size: number): AsyncGenerator<Buffer> {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(size, Math.max(4096, fstatSync(fd).size + 1)));
    for (;;) {
      const bytesRead = readSync(fd, buf, 0, buf.length, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    closeSync(fd);
  }
}

/** Byte offset where the first invalid UTF-8 sequence starts in `bytes` (bytes.length if none). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const decodes = (n: number, stream: boolean) => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream });
      return true;
    } catch {
      return false;
    }
  };
  // binary search for the longest prefix that decodes when a cut multi-byte tail is allowed ...
  let lo = 0,
    hi = bytes.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (decodes(mid, true)) lo = mid;
    else hi = mid - 1;
  }
  if (lo === bytes.length) return lo;
  // ... whose tail, if it is the start of a sequence, is where the invalid sequence begins
  for (let k = 0; k <= 3 && k <= lo; k++) if (decodes(lo - k, false)) return lo - k;
  return lo;
}
