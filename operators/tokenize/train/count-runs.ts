// Sorted runs of (piece, count) on disk and their k-way merge: what the bounded counter spills when its
// map is full, read back in order so equal pieces from different runs are summed exactly. A run is
// UTF-8 text, one entry per line: the piece as a JSON string (so newlines and tabs in pieces are
// escaped), a tab, the count. Runs are read in 1 MiB chunks: merging holds one chunk per run.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Code-unit order of strings: the order runs are sorted and merged in. */
export const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Writes `entries` (distinct pieces), sorted by piece, to `file`. */
export function writeRun(file: string, entries: Iterable<[string, number]>): void {
  const sorted = [...entries].sort((a, b) => byKey(a[0], b[0]));
  const fd = openSync(file, 'w');
  try {
    let chunk = '';
    for (const [k, n] of sorted) {
      chunk += `${JSON.stringify(k)}\t${n}\n`;
      if (chunk.length >= 1 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    if (chunk) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

/** Reads a run entry by entry. */
class RunReader {
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private readonly dec = new StringDecoder('utf8');
  private lines: string[] = [];
  private at = 0;
  private tail = '';
  private eof = false;
  key = '';
  count = 0;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'r');
  }

  /** Moves to the next entry; false at the end (the file is then closed). */
  next(): boolean {
    while (this.at >= this.lines.length) {
      if (this.eof) {
        closeSync(this.fd);
        return false;
      }
      const n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      if (n === 0) this.eof = true;
      const text = this.tail + (n === 0 ? this.dec.end() : this.dec.write(this.buf.subarray(0, n)));
      const parts = text.split('\n');
      this.tail = parts.pop() ?? '';
      this.lines = parts;
      this.at = 0;
      if (this.eof && this.tail) throw new Error(`count run ${this.file} ends in a partial line: the disk may be full`);
    }
    const line = this.lines[this.at++]!;
    const tab = line.lastIndexOf('\t');
    this.key = JSON.parse(line.slice(0, tab)) as string;
    this.count = Number(line.slice(tab + 1));
    return true;
  }
}

/** The entries of all runs in piece order, counts of equal pieces summed. */
export function* mergeRuns(files: readonly string[]): Generator<[string, number]> {
  // a binary heap of readers by their current key
  const heap: RunReader[] = [];
  const less = (a: RunReader, b: RunReader) => a.key < b.key;
  const down = (k: number) => {
    for (;;) {
      const l = 2 * k + 1,
        r = l + 1;
      let m = k;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === k) return;
      [heap[k], heap[m]] = [heap[m]!, heap[k]!];
      k = m;
    }
  };
  for (const f of files) {
    const r = new RunReader(f);
    if (r.next()) heap.push(r);
  }
  for (let k = (heap.length >> 1) - 1; k >= 0; k--) down(k);
  while (heap.length > 0) {
    const key = heap[0]!.key;
    let count = 0;
    while (heap.length > 0 && heap[0]!.key === key) {
      const top = heap[0]!;
      count += top.count;
      if (!top.next()) {
        heap[0] = heap[heap.length - 1]!;
        heap.pop();
      }
      down(0);
    }
    yield [key, count];
  }
}
