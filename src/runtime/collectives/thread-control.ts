// The shared control block of a thread group: who failed and why (written once, by the first rank or
// the main thread to abort), and a closed flag per rank. Int32 words, then the reason in UTF-8.
import { CollectiveError } from './collective.ts';

/** Int32 index of the failure state: 0 running, 1 being written, 2 failed */
export const STATE = 0;
const RANK = 1; // failed rank + 1 (0: none named)
const LENGTH = 2; // reason bytes
const REASON_OFFSET = 64;
const REASON_BYTES = 1024;
/** Int32 index of rank 0's closed flag; rank r's is CLOSED_BASE + r */
export const CLOSED_BASE = (REASON_OFFSET + REASON_BYTES) / 4;

export const controlBytes = (worldSize: number): number => (CLOSED_BASE + worldSize) * 4;

/** Records `err` as the group's failure unless one is recorded already; true if this one was. */
export function writeFailure(control: SharedArrayBuffer, err: CollectiveError): boolean {
  const words = new Int32Array(control);
  if (Atomics.compareExchange(words, STATE, 0, 1) !== 0) return false;
  const text = new TextEncoder().encode(err.message);
  // a cut may split a character: the reader decodes leniently
  const len = Math.min(text.byteLength, REASON_BYTES);
  new Uint8Array(control, REASON_OFFSET, REASON_BYTES).set(text.subarray(0, len));
  Atomics.store(words, RANK, err.failedRank === undefined ? 0 : err.failedRank + 1);
  Atomics.store(words, LENGTH, len);
  Atomics.store(words, STATE, 2);
  Atomics.notify(words, STATE);
  return true;
}

/** The group's failure, or undefined while it runs. */
export function readFailure(control: SharedArrayBuffer): CollectiveError | undefined {
  const words = new Int32Array(control);
  let state = Atomics.load(words, STATE);
  if (state === 0) return undefined;
  // the writer is a few stores from done
  while (state === 1) {
    Atomics.wait(words, STATE, 1, 1);
    state = Atomics.load(words, STATE);
  }
  const rank = Atomics.load(words, RANK);
  const len = Atomics.load(words, LENGTH);
  // copied out: TextDecoder does not take views of shared memory
  const text = new TextDecoder().decode(new Uint8Array(control, REASON_OFFSET, len).slice());
  return new CollectiveError(rank === 0 ? undefined : rank - 1, text);
}
