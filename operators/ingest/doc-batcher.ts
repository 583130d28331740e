// Documents collected into Doc batches, every column built directly (no Arrow builder: a builder per
// column per batch cost more than reading the files). The text column is written as UTF-8 bytes as it
// comes: a reader that already holds a document's bytes (a whole file, validated) hands them over
// without decoding them to a string that Arrow would encode again; strings are encoded once, into the
// same buffer. Full by rows or by the weight (bytes) given with each document, as RowBatcher is.
import { Dictionary, makeData, makeVector, Utf8, type Data, type RecordBatch, type Schema } from 'apache-arrow';
import { batchFromColumns } from '../../src/schema/build.ts';
import { sharedBytes } from '../../src/runtime/shared-memory.ts';
import { copyElements, moveWithin } from '../../src/runtime/shared-copy.ts';
import { objectList } from '../../src/runtime/object-list.ts';
import type { Doc } from '../../src/schema/columns.ts';

const utf8 = new TextEncoder();
const SLAB_BATCHES = 4;

/** A Utf8 column of `values` (null allowed). */
function utf8Data(values: ReadonlyArray<string | null>): Data<Utf8> {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  let nulls = 0,
    size = 0;
  for (const v of values)
    if (v === null) nulls++;
    else size += v.length < 4096 ? 3 * v.length : Buffer.byteLength(v, 'utf8');
  const bytes = new Uint8Array(size);
  const valid = nulls > 0 ? new Uint8Array((n + 7) >> 3) : undefined;
  let at = 0;
  values.forEach((v, i) => {
    if (v !== null) {
      at += utf8.encodeInto(v, bytes.subarray(at)).written;
      if (valid) valid[i >> 3]! |= 1 << (i & 7);
    }
    offsets[i + 1] = at;
  });
  return makeData({
    type: new Utf8(),
    length: n,
    nullCount: nulls,
    nullBitmap: valid,
    valueOffsets: offsets,
    data: bytes.slice(0, at),
  });
}

export class DocBatcher {
  private ids = objectList<string>();
  private urls = objectList<string | null>();
  private sources = objectList<string>();
  private offsets: number[] = [0];
  private text: Uint8Array;
  private used = 0;
  private weight = 0;
  private slab?: Uint8Array;
  private slabAt = 0;
  private readonly sourceType: Dictionary<Utf8>;

  /** `shared`: text in shared memory, for runs whose batches go to worker threads */
  constructor(
    readonly schema: Schema<Doc>,
    private readonly limits: { batchRows: number; batchBytes?: number },
    private readonly shared = false,
  ) {
    this.sourceType = schema.fields.find((f) => f.name === 'source')!.type as Dictionary<Utf8>;
    this.text = shared ? this.window(this.capacityFor(0)) : new Uint8Array(1 << 16);
  }

  get size(): number {
    return this.ids.length;
  }
  get full(): boolean {
    return (
      this.size >= this.limits.batchRows ||
      (this.limits.batchBytes !== undefined && this.weight >= this.limits.batchBytes)
    );
  }

  /** Adds one document; `text` is a string or its UTF-8 bytes (copied, unless they are in the room
   * `reserve` gave); `weight` counts against batchBytes. */
  push(doc: { id: string; text: string | Uint8Array; url: string | null; source: string }, weight = 0): void {
    const t = doc.text;
    if (typeof t === 'string') {
      this.room(t.length < 4096 ? 3 * t.length : Buffer.byteLength(t, 'utf8')); // a big document: its exact size, not 3x
      this.used += utf8.encodeInto(t, this.text.subarray(this.used)).written;
    } else {
      this.room(t.length);
      const at = t.buffer === this.text.buffer ? t.byteOffset - this.text.byteOffset : -1;
      if (at < 0) copyElements(this.text, this.used, t);
      else if (at !== this.used) moveWithin(this.text, this.used, at, at + t.length); // read into reserve(), trimmed at the front
      this.used += t.length;
    }
    this.offsets.push(this.used);
    this.ids.push(doc.id);
    this.urls.push(doc.url);
    this.sources.push(doc.source);
    this.weight += weight;
  }

  /** Room for `n` bytes where the next document's text goes: a reader can put a document's bytes
   * there (and push a view of them) instead of having them copied in. */
  reserve(n: number): Uint8Array {
    this.room(n);
    return this.text.subarray(this.used, this.used + n);
  }

  /** The documents so far as one batch, and an empty batcher. */
  flush(): RecordBatch<Doc> {
    const n = this.size;
    // in shared memory when a parallel stage (tokenize) will hand it to its worker threads as it is
    // instead of copied into each message (runtime/shared-memory.ts): the part of the slab window
    // filled, or a buffer grown for a large document when it is about the batch's size, else an
    // exactly sized copy
    const filled = this.text.subarray(0, this.used);
    let values: Uint8Array;
    if (this.inSlab()) {
      values = filled; // the rest of the window goes to the next batch
      this.slabAt += (this.used + 7) & ~7;
      this.text = this.window(this.capacityFor(this.used));
    } else if (this.shared && this.text.length <= 1.25 * this.used + (1 << 16)) {
      values = filled;
      this.text = this.window(this.capacityFor(this.used));
    } else {
      values = this.alloc(this.used);
      values.set(filled);
      // a buffer grown for a large document is not kept: the batches after it would all be copied too
      if (this.shared && this.text.length > this.capacityFor(this.used))
        this.text = this.window(this.capacityFor(this.used));
    }
    const text = makeVector(
      makeData({
        type: new Utf8(),
        length: n,
        nullCount: 0,
        valueOffsets: Int32Array.from(this.offsets),
        data: values,
      }),
    );
    // source: a dictionary of the distinct values, in order of first appearance
    const distinct = new Map<string, number>();
    const indices = Int32Array.from(this.sources, (s) => {
      let k = distinct.get(s);
      if (k === undefined) distinct.set(s, (k = distinct.size));
      return k;
    });
    const source = makeVector(
      makeData({
        type: this.sourceType,
        length: n,
        nullCount: 0,
        data: indices,
        dictionary: makeVector(utf8Data([...distinct.keys()])),
      }),
    );
    const batch = batchFromColumns(this.schema, {
      id: makeVector(utf8Data(this.ids)),
      text,
      url: makeVector(utf8Data(this.urls)),
      source,
    });
    this.ids = objectList();
    this.urls = objectList();
    this.sources = objectList();
    this.offsets = [0];
    this.used = 0;
    this.weight = 0;
    return batch;
  }

  private room(extra: number): void {
    if (this.used + extra <= this.text.length) return;
    // a shared buffer holds one batch and is handed over with it: grown to what the batch needs (the
    // document that did not fit ends it, in a batch full by bytes), a doubled one would be copied at
    // flush; a private one is reused batch after batch and doubles
    const next = this.alloc(
      this.shared ? this.used + extra + (1 << 16) : Math.max(2 * this.text.length, this.used + extra),
    );
    next.set(this.text.subarray(0, this.used));
    this.text = next;
  }

  private alloc(n: number): Uint8Array {
    return this.shared ? sharedBytes(n) : new Uint8Array(n);
  }

  /** Shared room of `n` bytes for the next batch's text: the free part of a slab of shared memory that
   * several batches in a row are cut from. One allocation per SLAB_BATCHES batches instead of one per
   * batch: allocating and freeing shared buffers cost V8's helper threads more per buffer than per byte
   * (packed rows in 2 MB batches instead of 256 kB ones saved ~15 ms per 12 MB of text). A batch's text
   * keeps its slab alive: a few MB. */
  private window(n: number): Uint8Array {
    if (!this.slab || this.slab.length - this.slabAt < n) {
      this.slab = sharedBytes(SLAB_BATCHES * n);
      this.slabAt = 0;
    }
    return this.slab.subarray(this.slabAt, this.slabAt + n);
  }

  /** Whether the text being filled is a slab window (not a buffer grown for a large document). */
  private inSlab(): boolean {
    return (
      this.slab !== undefined &&
      this.text.buffer === this.slab.buffer &&
      this.text.byteOffset === this.slab.byteOffset + this.slabAt
    );
  }

  /** A shared text buffer for the next batch: its byte limit and a document's room, or twice the last
   * batch when rows end batches sooner. */
  private capacityFor(lastUsed: number): number {
    const room = 1 << 16;
    const bytes = this.limits.batchBytes;
    return bytes === undefined
      ? Math.max(room, 2 * lastUsed)
      : Math.min(bytes + room, Math.max(room, 2 * lastUsed || bytes + room));
  }
}
