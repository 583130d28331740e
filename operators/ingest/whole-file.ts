// A plain text file as one document's bytes, read in one call: the fast path of read-text's `file`
// unit. The line-by-line path gives the same document (lines joined by '\n' reproduce the file, and
// trim() removes what a final newline adds); this one only skips the decode, the split, the join and
// Arrow's re-encoding. Whatever it cannot decide exactly goes to the line path, which reports it.
import { isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface WholeFile {
  /** the trimmed text's UTF-8 bytes (a view of the reader's reused buffer, or of `into`'s: copy
   * before the next read) */
  bytes: Uint8Array;
  /** UTF-16 length of the trimmed text, or -1 when it is at least `minChars` (not counted) */
  chars: number;
  /** offset of the first byte after a byte order mark (where the line path's document starts) */
  offset: number;
  /** the document's weight as the line path counts it (each line's bytes + 1); 0 for an empty file */
  weight: number;
}

const isAsciiSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
/** Code points String#trim removes, beyond ASCII. */
const isWideSpace = (cp: number) =>
  cp === 0xa0 ||
  cp === 0x1680 ||
  (cp >= 0x2000 && cp <= 0x200a) ||
  cp === 0x2028 ||
  cp === 0x2029 ||
  cp === 0x202f ||
  cp === 0x205f ||
  cp === 0x3000 ||
  cp === 0xfeff;

function codePointAt(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0xe0) return ((c & 0x1f) << 6) | (b[i + 1]! & 0x3f);
  if (c < 0xf0) return ((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
  return ((c & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f);
}

export class WholeFileReader {
  private buf = Buffer.allocUnsafe(1 << 20);

  /** `file` as one trimmed document, or undefined for the line path: a file that is not plain (.gz),
   * too large for maxDocBytes, not valid UTF-8, or with non-ASCII whitespace at an edge. `into(n)`, if
   * given, is where the file is read (a view of at least n bytes, such as the room at the end of a
   * batch being filled), so the bytes need not be copied there afterwards; else this reader's buffer. */
  read(file: string, maxDocBytes: number, minChars: number, into?: (n: number) => Uint8Array): WholeFile | undefined {
    if (file.endsWith('.gz')) return undefined;
    const fd = openSync(file, 'r');
    let size: number;
    let b: Uint8Array;
    try {
      size = fstatSync(fd).size;
      if (size + 1 > maxDocBytes) return undefined;
      if (!into && this.buf.length < size + 1) this.buf = Buffer.allocUnsafe(size + 1);
      b = into ? into(size + 1) : this.buf;
      let got = 0; // one byte more than the size is asked for: a file that grew is seen
      for (let n; got <= size && (n = readSync(fd, b, got, size + 1 - got, null)) > 0; ) got += n;
      if (got !== size) return undefined; // the file changed while read: let the streaming path see it
    } finally {
      closeSync(fd);
    }
    const offset = size >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
    if (!isUtf8(b.subarray(offset, size))) return undefined;
    const weight = size === offset ? 0 : size - offset + (b[size - 1] === 10 ? 0 : 1);
    let a = offset,
      z = size;
    while (a < z && isAsciiSpace(b[a]!)) a++;
    while (z > a && isAsciiSpace(b[z - 1]!)) z--;
    if (a < z && b[a]! >= 0x80 && isWideSpace(codePointAt(b, a))) return undefined;
    if (a < z && b[z - 1]! >= 0x80) {
      let s = z - 1;
      while (s > a && (b[s]! & 0xc0) === 0x80) s--;
      if (isWideSpace(codePointAt(b, s))) return undefined;
    }
    const bytes = b.subarray(a, z);
    // UTF-16 units: at least a third of the bytes; counted only when that does not settle minChars
    let chars = -1;
    if (bytes.length < 3 * minChars) {
      chars = 0;
      for (let k = 0; k < bytes.length; k++) {
        const c = bytes[k]!;
        if ((c & 0xc0) !== 0x80) chars += c >= 0xf0 ? 2 : 1;
      }
    }
    return { bytes, chars, offset, weight };
  }
}
