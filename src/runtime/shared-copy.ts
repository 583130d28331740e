// Copies into or out of shared memory at memmove speed whatever the alignment. V8 copies a typed
// array to or from a SharedArrayBuffer (set, copyWithin) with relaxed atomic loads and stores: a word
// at a time when source and destination lie at the same offset mod 8, else a byte at a time, ~5x
// slower (measured here: 12 MB in 3.3 ms against 0.6). In `flowlm prep` that was ~5 ms per 12 MB of
// text on the main thread: a document's bytes copied for hashing and token ids packed into rows
// start at any offset. A misaligned copy goes instead through a small private buffer in chunks: in at
// the source's alignment, moved within it (a plain memmove) to the destination's, and out at that.
// Each step is an aligned or unshared copy of a chunk that stays in the L1 cache.

type Elements = Uint8Array | Int32Array;

const CHUNK = 16 << 10; // bytes per step
// below this many bytes the three steps cost more than the byte loop they avoid
const SMALL = 256;
const scratch = new Uint8Array(CHUNK + 16);

/** `dst.set(src, at)`, fast when either is in shared memory and their offsets differ mod 8. When
 * both are views of one buffer, `src` must not lie before the destination range (a move towards the
 * start, as copyWithin to a lower index). */
export function copyElements<T extends Elements>(dst: T, at: number, src: T): void {
  const size = dst.BYTES_PER_ELEMENT;
  const bytes = src.length * size;
  const to = dst.byteOffset + at * size;
  const shared = dst.buffer instanceof SharedArrayBuffer || src.buffer instanceof SharedArrayBuffer;
  if (!shared || bytes < SMALL || ((to - src.byteOffset) & 7) === 0) {
    (dst as Uint8Array).set(src as Uint8Array, at);
    return;
  }
  const from = new Uint8Array(src.buffer, src.byteOffset, bytes);
  const into = new Uint8Array(dst.buffer, to, bytes);
  const a = src.byteOffset & 7;
  const b = to & 7;
  for (let k = 0; k < bytes; k += CHUNK) {
    const n = Math.min(CHUNK, bytes - k);
    scratch.set(from.subarray(k, k + n), a); // same alignment as the source: word by word
    scratch.copyWithin(b, a, a + n); // unshared: memmove
    into.set(scratch.subarray(b, b + n), k); // same alignment as the destination
  }
}

/** `buf.copyWithin(target, start, end)` for a move towards the start (target < start), fast in
 * shared memory whatever the distance. */
export function moveWithin(buf: Uint8Array, target: number, start: number, end: number): void {
  if (target > start) throw new RangeError(`moveWithin moves towards the start only (${target} > ${start})`);
  copyElements(buf, target, buf.subarray(start, end));
}
