// A second thread for the output head, which is most of a small GPT's training FLOPs (a 50k
// vocabulary against d_model 128). tfjs-backend-wasm runs single-threaded under Node, so a worker
// thread with its own wasm backend takes chunks of rows from a shared atomic counter while the main
// thread takes others: on a busy machine the helper simply gets fewer chunks. The call stays
// synchronous (the main thread waits with Atomics.wait), so it fits inside a tf.customGrad.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { tsWorker } from '../../runtime/thread-boot.ts';

/** What the main thread shares for one head pass. */
export interface SharedHeadJob {
  n: number;
  d: number;
  v: number;
  h: Float32Array;
  w: Float32Array;
  targets: Int32Array;
  scale: Float32Array;
  eps: number;
  wMean?: Float32Array;
  rowsPerChunk: number;
  vocabBlock: number;
  grad: boolean;
  /** dW slots in [V, d] by the native kernel (head-rows.ts HeadRowsOut.vocabMajor) */
  vocabMajor: boolean;
}

/** The helper's share: the chunks it did, with their rows of per-row loss and dh (its dW^T went
 * into the shared slots). */
export interface HelperShare {
  chunks: Set<number>;
  loss: Float64Array;
  dh: Float32Array;
}

/** Index of the state word and the chunk counter in the control array. */
export const STATE = 0;
export const COUNTER = 1;
export const RUNNING = 1,
  DONE = 2,
  FAILED = 3; // 0: idle

/** Shared buffers, grown when a job needs more; sent to the worker with each job. */
export interface HeadBuffers {
  ctrl: Int32Array; // [state, chunk counter]
  w: Float32Array;
  h: Float32Array;
  targets: Int32Array;
  scale: Float32Array;
  wMean: Float32Array;
  /** per-row loss and dh rows of the helper's chunks; dW^T slot k ([d, V]) of chunk k, both threads */
  loss: Float64Array;
  dh: Float32Array;
  dwT: Float32Array;
  done: Int32Array;
  error: Uint8Array;
}

const shared = <T>(make: (b: SharedArrayBuffer) => T, bytes: number): T =>
  make(new SharedArrayBuffer(Math.max(8, bytes)));

function allocate(n: number, d: number, v: number, chunks: number, ctrl: Int32Array, error: Uint8Array): HeadBuffers {
  return {
    ctrl,
    error,
    w: shared((b) => new Float32Array(b), 4 * v * d),
    h: shared((b) => new Float32Array(b), 4 * n * d),
    targets: shared((b) => new Int32Array(b), 4 * n),
    scale: shared((b) => new Float32Array(b), 4 * n),
    wMean: shared((b) => new Float32Array(b), 4 * d),
    loss: shared((b) => new Float64Array(b), 8 * n),
    dh: shared((b) => new Float32Array(b), 4 * n * d),
    dwT: shared((b) => new Float32Array(b), 4 * chunks * d * v),
    done: shared((b) => new Int32Array(b), 4 * chunks), // 1 for each chunk the helper did
  };
}

const ENTRY = new URL('./head-worker.ts', import.meta.url).href;

export class HeadHelper {
  private readonly worker: Worker;
  private bufs: HeadBuffers | undefined;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(8));
  private readonly error = new Uint8Array(new SharedArrayBuffer(4096));

  private constructor(worker: Worker) {
    this.worker = worker;
  }

  /** Starts the thread and waits until its wasm backend is up. */
  static async start(): Promise<HeadHelper> {
    const worker = tsWorker(ENTRY);
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: unknown) =>
        m === 'ready' ? resolve() : reject(new Error(`head helper thread: ${String(m)}`)),
      );
      worker.once('error', reject);
    });
    worker.unref(); // never keeps the process alive
    return new HeadHelper(worker);
  }

  /** Runs `local` (the caller's share: chunks from `next`, dW^T into `slots`) while the helper
   * takes other chunks. */
  run(job: SharedHeadJob, local: (slots: Float32Array, next: () => number) => void): HelperShare {
    const { n, d, v } = job;
    const chunks = Math.ceil(n / job.rowsPerChunk);
    const b = this.buffersFor(n, d, v, chunks);
    b.w.set(job.w);
    b.h.set(job.h);
    b.targets.set(job.targets);
    b.scale.set(job.scale);
    if (job.wMean) b.wMean.set(job.wMean);
    Atomics.store(b.ctrl, COUNTER, 0);
    Atomics.store(b.ctrl, STATE, RUNNING);
    this.worker.postMessage({
      n,
      d,
      v,
      eps: job.eps,
      hasWMean: job.wMean !== undefined,
      rowsPerChunk: job.rowsPerChunk,
      vocabBlock: job.vocabBlock,
      grad: job.grad,
      vocabMajor: job.vocabMajor,
      bufs: b,
    });
    let localError: unknown;
    try {
      local(b.dwT, () => Atomics.add(b.ctrl, COUNTER, 1));
    } catch (err) {
      localError = err;
      Atomics.store(b.ctrl, COUNTER, 0x3fffffff); // no more chunks for the helper either
    }
    // wait even after an error here: the buffers must not be reused while the helper writes them.
    // The helper finishes at most the chunk it holds; a minute without an answer means it is gone.
    const deadline = Date.now() + 60_000;
    while (Atomics.load(b.ctrl, STATE) === RUNNING) {
      if (Atomics.wait(b.ctrl, STATE, RUNNING, 1000) === 'timed-out' && Date.now() > deadline) {
        this.retire();
        throw new Error(
          'head helper thread: no answer in 60 s; it is stopped and the head runs on one thread from now on ' +
            '(FLOWLM_HEAD_THREAD=0 skips it)',
        );
      }
    }
    if (localError !== undefined) throw localError;
    if (Atomics.load(b.ctrl, STATE) === FAILED) {
      const msg = new TextDecoder().decode(b.error.slice()).replace(/\0+$/, '');
      this.retire();
      throw new Error(`head helper thread failed (it is stopped; the head runs on one thread from now on): ${msg}`);
    }
    const mine = new Set<number>();
    for (let k = 0; k < chunks; k++) if (b.done[k] === 1) mine.add(k);
    return { chunks: mine, loss: b.loss, dh: b.dh };
  }

  private buffersFor(n: number, d: number, v: number, chunks: number): HeadBuffers {
    const b = this.bufs;
    if (!b || b.h.length < n * d || b.w.length !== v * d || b.wMean.length !== d || b.done.length < chunks) {
      this.bufs = allocate(n, d, v, chunks, this.ctrl, this.error);
    }
    return this.bufs!;
  }

  /** Stops a helper that failed; later passes run on one thread. */
  private retire(): void {
    if (helper === this) helper = undefined;
    void this.worker.terminate();
  }

  async stop(): Promise<void> {
    if (helper === this) helper = undefined;
    await this.worker.terminate();
  }
}

let helper: HeadHelper | undefined;
let starting: Promise<HeadHelper | undefined> | undefined;

/** Whether a helper makes sense here: two or more cores and not turned off by FLOWLM_HEAD_THREAD=0. */
export const headHelperWanted = (): boolean => process.env.FLOWLM_HEAD_THREAD !== '0' && availableParallelism() >= 2;

/** Starts the helper once per process; resolves to undefined (one thread) if it cannot start. */
export function startHeadHelper(): Promise<HeadHelper | undefined> {
  starting ??= HeadHelper.start().then(
    (h) => (helper = h),
    (err: unknown) => {
      process.stderr.write(
        `flowlm: head helper thread not started (${err instanceof Error ? err.message : String(err)}); the head ` +
          `runs on one thread\n`,
      );
      return undefined;
    },
  );
  return starting;
}

/** The running helper, if one was started. */
export const headHelper = (): HeadHelper | undefined => helper;
