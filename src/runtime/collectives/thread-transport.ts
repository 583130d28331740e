// Ring transport between worker threads of one process: each rank has a mailbox in a
// SharedArrayBuffer that only its left neighbour writes, a ring of fixed-size slots with a head
// (messages written) and tail (messages read) counter. Data is copied into a slot and out of it (the
// receiver reads the slot in place), never structured-cloned. Waiting is Atomics.waitAsync in slices,
// so the thread's event loop keeps running, and every slice re-checks a shared failure word:
// abort() on any rank or on the main thread (createThreadGroup's abort) wakes every rank at once.
import type { Worker } from 'node:worker_threads';
import { CollectiveError, type Collective } from './collective.ts';
import { ringCollective, type RingOptions } from './ring.ts';
import { rankFailure, type Transport } from './transport.ts';
import { readFailure, writeFailure, controlBytes, CLOSED_BASE, STATE } from './thread-control.ts';

/** What a rank's thread needs to join the group: plain data and SharedArrayBuffers (structured-cloneable). */
export interface ThreadHandle {
  rank: number;
  worldSize: number;
  /** failure state and reason, and one closed flag per rank (thread-control.ts) */
  control: SharedArrayBuffer;
  /** mailboxes[r]: messages from rank r-1 to rank r */
  mailboxes: SharedArrayBuffer[];
  slots: number;
  slotBytes: number;
}

export interface ThreadGroupOptions {
  /** message slots per mailbox (default 4) */
  slots?: number;
  /** bytes per slot = largest ring segment (default 1 MiB) */
  slotBytes?: number;
}

export interface ThreadGroup {
  handles: ThreadHandle[];
  /** Wakes every rank blocked in an operation with `err` (name the failed rank: a CollectiveError). */
  abort(err: Error): void;
  /** Aborts the group, naming `rank`, when `worker` exits before its rank closed the collective. */
  watch(worker: Worker, rank: number): void;
}

// Int32 indices in a mailbox header: counters, then each slot's message length and tag
const HEAD = 0,
  TAIL = 1,
  LEN = 4,
  MAX_SLOTS = 12,
  TAG = LEN + MAX_SLOTS;
const HEADER_BYTES = (TAG + MAX_SLOTS) * 4;
/** how long one wait lasts before the failure word is checked again */
const SLICE_MS = 100;

/** The shared memory of a `worldSize`-rank group, made on the thread that starts the ranks: give
 * handles[r] to rank r's thread (workerData) and `watch` each thread. A thread cannot see another die
 * (it only stops writing), so the starter's watch, or its abort, is what wakes the others. */
export function createThreadGroup(worldSize: number, opts: ThreadGroupOptions = {}): ThreadGroup {
  if (!Number.isInteger(worldSize) || worldSize < 1)
    throw new Error(`createThreadGroup: worldSize must be an integer >= 1, got ${worldSize}`);
  const slots = opts.slots ?? 4,
    slotBytes = opts.slotBytes ?? 1 << 20;
  if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS)
    throw new Error(`createThreadGroup: slots must be an integer in [1, ${MAX_SLOTS}], got ${slots}`);
  if (!Number.isInteger(slotBytes) || slotBytes < 4 || slotBytes % 4 !== 0)
    throw new Error(`createThreadGroup: slotBytes must be a positive multiple of 4, got ${slotBytes}`);
  const control = new SharedArrayBuffer(controlBytes(worldSize));
  // one rank alone never sends: no mailbox memory
  const mailboxes = Array.from(
    { length: worldSize },
    () => new SharedArrayBuffer(worldSize > 1 ? HEADER_BYTES + slots * slotBytes : HEADER_BYTES),
  );
  const handles = Array.from(
    { length: worldSize },
    (_, rank): ThreadHandle => ({ rank, worldSize, control, mailboxes, slots, slotBytes }),
  );
  const abort = (err: Error) => {
    const e =
      err instanceof CollectiveError
        ? err
        : new CollectiveError(undefined, `the thread group was aborted: ${err.message}`, { cause: err });
    writeFailure(control, e);
    wakeAll(handles[0]!);
  };
  const watch = (worker: Worker, rank: number) => {
    worker.once('exit', (code) => {
      if (Atomics.load(new Int32Array(control), CLOSED_BASE + rank) === 0)
        abort(
          rankFailure(
            rank,
            `was lost (its thread exited${code === 0 ? '' : ` with code ${code}`} before closing the collective)`,
          ),
        );
    });
  };
  return { handles, abort, watch };
}

function wakeAll(h: ThreadHandle): void {
  Atomics.notify(new Int32Array(h.control), STATE);
  for (const m of h.mailboxes) {
    const a = new Int32Array(m, 0, HEADER_BYTES / 4);
    Atomics.notify(a, HEAD);
    Atomics.notify(a, TAIL);
  }
}

type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
  timeout: number,
) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Resolves when `a[index]` may no longer be `value`, or after a slice. The timer keeps the thread
 * alive: a pending waitAsync alone does not. */
function changed(a: Int32Array, index: number, value: number): Promise<void> | undefined {
  const r = waitAsync(a, index, value, SLICE_MS);
  if (!r.async) return undefined;
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, SLICE_MS + 10);
    void (r.value as Promise<string>).then(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

class ThreadTransport implements Transport {
  readonly rank: number;
  readonly worldSize: number;
  readonly maxMessageBytes: number;
  private readonly out: Int32Array; // right neighbour's mailbox header
  private readonly outData: Uint8Array;
  private readonly in: Int32Array;
  private readonly inData: Uint8Array;
  private readonly closed: Int32Array;
  private head = 0;
  private tail = 0;
  private localFailure?: CollectiveError;

  constructor(private readonly h: ThreadHandle) {
    this.rank = h.rank;
    this.worldSize = h.worldSize;
    this.maxMessageBytes = h.slotBytes;
    const right = h.mailboxes[(h.rank + 1) % h.worldSize]!,
      mine = h.mailboxes[h.rank]!;
    this.out = new Int32Array(right, 0, HEADER_BYTES / 4);
    this.outData = new Uint8Array(right, HEADER_BYTES);
    this.in = new Int32Array(mine, 0, HEADER_BYTES / 4);
    this.inData = new Uint8Array(mine, HEADER_BYTES);
    this.closed = new Int32Array(h.control);
    // a rank joins once; its counters start where the mailbox is (zero for a new group)
    this.head = Atomics.load(this.out, HEAD);
    this.tail = Atomics.load(this.in, TAIL);
  }

  private get right(): number {
    return (this.rank + 1) % this.worldSize;
  }
  private get left(): number {
    return (this.rank - 1 + this.worldSize) % this.worldSize;
  }

  async send(bytes: Uint8Array, tag: number): Promise<void> {
    if (bytes.byteLength > this.h.slotBytes)
      throw new CollectiveError(
        this.rank,
        `thread transport: a ${bytes.byteLength}-byte message exceeds the ${this.h.slotBytes}-byte slot`,
      );
    for (;;) {
      this.check();
      if (Atomics.load(this.closed, CLOSED_BASE + this.right) !== 0)
        throw rankFailure(this.right, 'has closed its collective');
      const tail = Atomics.load(this.out, TAIL);
      if (((this.head - tail) | 0) < this.h.slots) break;
      await changed(this.out, TAIL, tail);
    }
    const k = this.head % this.h.slots;
    this.outData.set(bytes, k * this.h.slotBytes);
    Atomics.store(this.out, LEN + k, bytes.byteLength);
    Atomics.store(this.out, TAG + k, tag | 0);
    this.head = (this.head + 1) | 0;
    Atomics.store(this.out, HEAD, this.head);
    Atomics.notify(this.out, HEAD);
  }

  async recv(use: (bytes: Uint8Array, tag: number) => void): Promise<void> {
    for (;;) {
      this.check();
      const head = Atomics.load(this.in, HEAD);
      if (head !== this.tail) break;
      if (Atomics.load(this.closed, CLOSED_BASE + this.left) !== 0)
        throw rankFailure(this.left, 'has closed its collective');
      await changed(this.in, HEAD, head);
    }
    const k = this.tail % this.h.slots;
    const start = k * this.h.slotBytes;
    try {
      use(this.inData.subarray(start, start + Atomics.load(this.in, LEN + k)), Atomics.load(this.in, TAG + k) >>> 0);
    } finally {
      this.tail = (this.tail + 1) | 0;
      Atomics.store(this.in, TAIL, this.tail);
      Atomics.notify(this.in, TAIL);
    }
  }

  abort(reason: CollectiveError): void {
    // the first failure recorded is the one every rank reports
    if (writeFailure(this.h.control, reason)) this.localFailure ??= reason;
    wakeAll(this.h);
  }

  async close(): Promise<void> {
    Atomics.store(this.closed, CLOSED_BASE + this.rank, 1);
    wakeAll(this.h);
  }

  private check(): void {
    if (this.localFailure) throw this.localFailure;
    const f = readFailure(this.h.control);
    if (f) {
      this.localFailure = f;
      throw f;
    }
    if (Atomics.load(this.closed, CLOSED_BASE + this.rank) !== 0)
      throw new CollectiveError(this.rank, `rank ${this.rank}'s collective is closed`);
  }
}

/** This thread's rank of a thread group (call it in the thread that got `handle`). */
export function threadCollective(handle: ThreadHandle, opts: RingOptions = {}): Collective {
  if (
    !handle ||
    !(handle.control instanceof SharedArrayBuffer) ||
    !Array.isArray(handle.mailboxes) ||
    handle.mailboxes.length !== handle.worldSize
  )
    throw new Error(
      'threadCollective: not a ThreadHandle from createThreadGroup (pass handles[rank] to the thread unchanged, ' +
        'e.g. in workerData)',
    );
  return ringCollective(new ThreadTransport(handle), opts);
}
