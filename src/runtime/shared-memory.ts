// Column buffers in shared memory. A batch whose buffers are SharedArrayBuffers crosses to a worker
// thread without a copy (ipc.ts sends the shared buffer itself, read-only like every batch buffer):
// readers put documents' text there, the bytes a tokenize stage ships to its workers. V8 does not count
// shared memory toward starting collections, so the bytes handed out pace young-generation collections
// on this thread (collect.ts). Without that, a reader of a 400 MB file in 2 MB batches grew RSS by
// 200 MB; with one every 16 MB, by 165 MB (a scavenge frees what is unreferenced by then, and the
// batches in use at that moment are promoted); with one every 4 MB, by 52 MB.
import { CollectionPacer } from './collect.ts';

const pacer = new CollectionPacer(64 << 20, 8);

/** `n` zeroed bytes in a SharedArrayBuffer of exactly that size. */
export function sharedBytes(n: number): Uint8Array {
  pacer.add(n);
  return new Uint8Array(new SharedArrayBuffer(n));
}
