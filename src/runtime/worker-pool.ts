// A pool of worker threads that run operator kernels on record batches. Threads start lazily (the
// first task); batches travel packed into transferred buffers (ipc.ts). Each thread is sent up to
// `depth` tasks ahead (it runs them one at a time, in order), so it starts its next batch the moment
// one is done instead of idling while the main thread reads the reply and sends more. When a thread has
// nothing to do while another has a batch waiting behind its running one (the end of a stream), that
// batch is taken back (claims.ts) and runs on the idle thread. Idle threads do not keep the process
// alive. A thread that dies fails the task it was running; the tasks queued behind it go to another thread.
import { availableParallelism } from 'node:os';
import type { RecordBatch } from 'apache-arrow';
import type { OperatorFunction } from 'rxjs';
import { makeContext, type OperatorContext } from '../core/context.ts';
import { defOf, parseConfig, type AnyFactory } from '../core/operator.ts';
import { applyDelta, packBatch, packedSharedBytes, transferList } from './ipc.ts';
import { receivedShared } from './shared-memory.ts';
import { Claims } from './claims.ts';
import { workerMap } from './parallel.ts';
import { tsWorker } from './thread-boot.ts';
import { withHeapFloor } from './pool-heap.ts';
import type { KernelSpec, ReplyMessage, TaskMessage } from './worker-entry.ts';
import {
  WorkerTaskError,
  type RunOptions,
  type Slot,
  type Task,
  type TaskResult,
  type WorkerPoolOptions,
} from './worker-task.ts';

export type { KernelSpec } from './worker-entry.ts';
export { WorkerTaskError, type RunOptions, type TaskResult, type WorkerPoolOptions } from './worker-task.ts';

const ENTRY = new URL('./worker-entry.ts', import.meta.url).href;

export class WorkerPool {
  readonly size: number;
  readonly closeTimeoutMs: number;
  readonly depth: number;
  private readonly slots: Slot[] = [];
  private queue: Task[] = [];
  private nextId = 0;
  private closed?: Promise<void>;
  private claims?: Claims;

  constructor(opts: WorkerPoolOptions = {}) {
    this.size = opts.size ?? availableParallelism();
    if (!Number.isInteger(this.size) || this.size < 1)
      throw new Error(`WorkerPool: size must be an integer >= 1, got ${opts.size}`);
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
    this.depth = opts.depth ?? 2;
    if (!Number.isInteger(this.depth) || this.depth < 1)
      throw new Error(`WorkerPool: depth must be an integer >= 1, got ${opts.depth}`);
  }

  /** Threads currently alive. */
  get threads(): number {
    return this.slots.length;
  }

  /** Run one kernel on one batch in a worker thread. Rejects with a WorkerTaskError. */
  run(spec: KernelSpec, batch: RecordBatch, opts: RunOptions = {}): Promise<TaskResult> {
    if (this.closed) return Promise.reject(new WorkerTaskError('the worker pool is closed'));
    let key: string;
    try {
      key = `${spec.module}#${spec.id}#${spec.parsed}#${JSON.stringify(spec.config)}`;
    } catch (err) {
      return Promise.reject(
        new WorkerTaskError(`cannot send the config to a worker: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
    let resolve!: (r: TaskResult) => void, reject!: (e: WorkerTaskError) => void, settle!: () => void;
    const settled = new Promise<void>((r) => {
      settle = r;
    });
    const result = new Promise<TaskResult>((res, rej) => {
      resolve = (r) => {
        settle();
        res(r);
      };
      reject = (e) => {
        settle();
        rej(e);
      };
    });
    const threads = Math.max(1, Math.min(this.size, opts.threads ?? this.size));
    this.queue.push({ id: this.nextId++, key, spec, input: batch, threads, resolve, reject, settled, cell: -1 });
    this.dispatch();
    return result;
  }

  /** An RxJS operator running a parallel operator's kernel on this pool, on at most `concurrency`
   * threads (each sent `depth` batches ahead), output in input order:
   * `src$.pipe(pool.map(normalize, { form: 'NFC' }))`. `op` is the operator's factory, or
   * `{ module, id }` to name one this thread has not imported (its config is then validated in the
   * worker). */
  map(
    op: AnyFactory | { module: string; id: string },
    config: unknown = {},
    opts: { concurrency?: number; ctx?: Partial<OperatorContext> } = {},
  ): OperatorFunction<RecordBatch, RecordBatch> {
    let spec: KernelSpec;
    if ('def' in op) {
      const def = defOf(op);
      if (def.kind === 'source' || def.kind === 'sink' || !def.kernel || !def.module)
        throw new Error(
          `operator ${def.id} cannot run on workers: it needs a kernel and module (import.meta.url) in its definition`,
        );
      spec = { module: def.module, id: def.id, config: parseConfig(def, config, opts.ctx?.nodeId), parsed: true };
    } else spec = { module: op.module, id: op.id, config, parsed: false };
    const ctx = makeContext(opts.ctx?.nodeId ?? spec.id, opts.ctx);
    return workerMap(this, spec, opts.concurrency ?? this.size, ctx);
  }

  /** Waits for the tasks sent to threads (at most closeTimeoutMs), then terminates every thread.
   * Tasks not yet sent are rejected. Safe to call more than once. */
  close(timeoutMs = this.closeTimeoutMs): Promise<void> {
    this.closed ??= (async () => {
      const waiting = this.queue;
      this.queue = [];
      for (const t of waiting) t.reject(new WorkerTaskError('the worker pool closed before this task started'));
      const running = this.slots.flatMap((s) => s.tasks.map((t) => t.settled));
      if (running.length > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all(running),
          new Promise<void>((r) => {
            timer = setTimeout(r, timeoutMs);
          }),
        ]);
        clearTimeout(timer);
      }
      await Promise.all(
        this.slots.map((s) => {
          s.closing = true;
          return s.worker.terminate();
        }),
      );
    })();
    return this.closed;
  }

  /** Sends waiting tasks to threads, in queue order, as long as some thread can take one; then, while
   * a thread is idle, gives it a task taken back from another. */
  private dispatch(): void {
    do this.send();
    while (this.queue.length === 0 && !this.closed && this.takeBack());
  }

  private send(): void {
    for (let i = 0; i < this.queue.length && !this.closed; ) {
      const task = this.queue[i]!;
      let slot: Slot | undefined;
      try {
        slot = this.slotFor(task);
      } catch (err) {
        // a thread that cannot start (bad execArgv...) fails its task
        this.queue.splice(i, 1);
        task.reject(
          new WorkerTaskError(`cannot start a worker thread: ${err instanceof Error ? err.message : String(err)}`),
        );
        continue;
      }
      if (!slot) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      let msg: TaskMessage;
      try {
        task.packed ??= packBatch(task.input);
        // a task queued behind another may be taken back (a running one never is)
        task.cell = slot.tasks.length > 0 ? this.claims!.open() : -1;
        msg = {
          id: task.id,
          key: task.key,
          batch: task.packed,
          cell: task.cell,
          ...(slot.loaded.has(task.key) ? {} : { spec: task.spec }),
        };
        slot.worker.postMessage(msg, transferList(task.packed));
      } catch (err) {
        this.claims!.close(task.cell);
        task.reject(
          new WorkerTaskError(
            `cannot send the task to a worker (operator configs must be structured-cloneable): ` +
              `${err instanceof Error ? err.message : String(err)}`,
          ),
        );
        continue;
      }
      task.packed = undefined; // moved to the thread
      slot.tasks.push(task);
      slot.loaded.add(task.key);
      slot.worker.ref();
    }
  }

  /** Takes back the last task waiting behind another on some thread, for a thread with none (a kernel
   * stays on at most its `threads`). False when there is no such idle thread or task. */
  private takeBack(): boolean {
    if (!this.slots.some((s) => s.tasks.length === 0 && !s.closing)) return false;
    for (const s of this.slots) {
      const task = s.tasks.length > 1 ? s.tasks[s.tasks.length - 1]! : undefined;
      if (!task || this.slots.filter((o) => o.tasks.some((t) => t.key === task.key)).length >= task.threads) continue;
      if (!this.claims!.take(task.cell)) continue; // started meanwhile (or not takeable)
      s.tasks.pop();
      s.taken.add(task.cell);
      task.cell = -1;
      this.queue.unshift(task); // packed again for its new thread (its buffers went to the old one)
      return true;
    }
    return false;
  }

  /** The thread `task` goes to: an idle one if any, else a new one, else the least loaded with room;
   * a kernel already on `task.threads` threads stays on those. */
  private slotFor(task: Task): Slot | undefined {
    const mine = this.slots.filter((s) => s.tasks.some((t) => t.key === task.key));
    const atLimit = mine.length >= task.threads;
    let best: Slot | undefined;
    for (const s of atLimit ? mine : this.slots) {
      if (s.tasks.length < this.depth && (!best || s.tasks.length < best.tasks.length)) best = s;
    }
    if (best?.tasks.length === 0) return best;
    if (!atLimit && this.slots.length < this.size) return this.spawn();
    return best;
  }

  private spawn(): Slot {
    // cells for the tasks sent ahead (depth - 1 per thread) and those taken back but not yet skipped
    const claims = (this.claims ??= new Claims(2 * this.size * this.depth));
    const worker = withHeapFloor(() => tsWorker(ENTRY, { workerData: { claims: claims.cells } }));
    worker.unref();
    const slot: Slot = { worker, tasks: [], loaded: new Set(), taken: new Set() };
    this.slots.push(slot);
    worker.on('message', (m: ReplyMessage) => this.onReply(slot, m));
    worker.on('error', (err) => {
      slot.lastError = err instanceof Error ? err.message : String(err);
    });
    worker.on('exit', (code) => this.onExit(slot, code));
    return slot;
  }

  private onReply(slot: Slot, m: ReplyMessage): void {
    if (m.kind === 'skipped') {
      // a task taken back: it runs elsewhere, and its cell may be used again
      slot.taken.delete(m.cell);
      this.claims!.close(m.cell);
      return;
    }
    const at = slot.tasks.findIndex((t) => t.id === m.id);
    if (at < 0) return;
    const task = slot.tasks.splice(at, 1)[0]!;
    this.claims!.close(task.cell);
    task.cell = -1;
    if (slot.tasks.length === 0) slot.worker.unref();
    if (m.kind === 'fail') task.reject(new WorkerTaskError(m.reason, m.location));
    else {
      if (m.packed) receivedShared(packedSharedBytes(m.packed));
      try {
        task.resolve({ batch: applyDelta(task.input, m), kernelMs: m.kernelMs });
      } catch (err) {
        task.reject(
          new WorkerTaskError(`cannot read the worker's result: ${err instanceof Error ? err.message : String(err)}`),
        );
      }
    }
    this.dispatch();
  }

  private onExit(slot: Slot, code: number): void {
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
    const [task, ...queued] = slot.tasks;
    slot.tasks = [];
    for (const t of [...(task ? [task] : []), ...queued]) {
      this.claims?.close(t.cell);
      t.cell = -1;
    }
    for (const c of slot.taken) this.claims?.close(c);
    if (task) {
      task.reject(
        slot.closing
          ? new WorkerTaskError('the worker pool closed (its close timeout passed) before this task finished')
          : new WorkerTaskError(
              `worker thread crashed (exit code ${code}${slot.lastError ? `: ${slot.lastError}` : ''}) while running operator ${task.spec.id}; ` +
                'look in its kernel for process.exit, errors thrown from callbacks, or memory growth',
              {},
              true,
            ),
      );
    }
    // tasks that were waiting behind it never started: they run elsewhere (their packed input went with
    // the thread, so they are packed again)
    if (slot.closing)
      for (const t of queued) t.reject(new WorkerTaskError('the worker pool closed before this task started'));
    else this.queue.unshift(...queued);
    this.dispatch(); // a replacement thread starts if tasks are waiting
  }
}
