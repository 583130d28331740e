// Batch buffers in shared memory. A batch whose buffers are SharedArrayBuffers crosses threads without
// a copy (ipc.ts sends the shared buffer itself, read-only like every batch buffer): readers put
// documents' text there, workers their replies (token ids), the packer its rows. V8 does not count
// shared memory toward starting collections, and that is also why it is used for the bulk of a run's
// batch memory: counted, ~35 MB of batches per 12 MB of prepared text made V8 run 2-3 full collections
// of the main thread's heap each time (each ~60 ms of CPU with its helper threads, and each dropping
// optimized code that then had to be compiled again), about a quarter of what tokenizing costs. The
// bytes handed out here pace young-generation collections instead (collect.ts), one every 32 MB, which
// free the batches done with (they are young); a full one every 256 MB frees those a collection found
// still in use. Without pacing, a reader of a 400 MB file in 2 MB batches grew RSS by 200 MB. (One
// every 16 MB, prep spent ~10 ms more CPU per 12 MB of text, ~3% of the run, for ~16 MB less RSS.)
import { CollectionPacer } from './collect.ts';

const pacer = new CollectionPacer(32 << 20, 8);

/** `n` zeroed bytes in a SharedArrayBuffer of exactly that size. */
export function sharedBytes(n: number): Uint8Array {
  pacer.add(n);
  return new Uint8Array(new SharedArrayBuffer(n));
}

/** `n` zeroed int32 values in shared memory. */
export function sharedInt32(n: number): Int32Array {
  return new Int32Array(sharedBytes(4 * n).buffer);
}

/** `n` bytes of shared memory another thread allocated arrived here (they pace collections too). */
export function receivedShared(n: number): void {
  pacer.add(n);
}
