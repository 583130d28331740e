// A pool of worker threads that run operator kernels on record batches. Threads start lazily (the
// first task), one task per thread at a time; batches travel as transferred Arrow IPC buffers. Idle
// threads do not keep the process alive. A thread that dies fails the task it was running.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { RecordBatch } from 'apache-arrow';
import type { OperatorFunction } from 'rxjs';
import { makeContext, type OperatorContext } from '../core/context.ts';
import type { InputLocation } from '../core/errors.ts';
import { defOf, parseConfig, type AnyFactory } from '../core/operator.ts';
import { applyDelta, batchToIPC } from './ipc.ts';
import { workerMap } from './parallel.ts';
import type { KernelSpec, ReplyMessage, TaskMessage } from './worker-entry.ts';

export type { KernelSpec } from './worker-entry.ts';

/** A task that failed in a worker: the kernel threw (`reason`, `location` as the kernel gave them),
 * or the thread died (`crashed`), or the pool closed first. */
export class WorkerTaskError extends Error {
  override readonly name = 'WorkerTaskError';
  constructor(readonly reason: string, readonly location: InputLocation = {}, readonly crashed = false) { super(reason); }
}

export interface WorkerPoolOptions {
  /** most threads the pool starts (default: os.availableParallelism()) */
  size?: number;
  /** how long close() waits for running tasks before terminating their threads (default 10 s) */
  closeTimeoutMs?: number;
}

export interface TaskResult { batch: RecordBatch; kernelMs: number }

interface Task {
  id: number; key: string; spec: KernelSpec; bytes: ArrayBuffer; input: RecordBatch;
  resolve(r: TaskResult): void; reject(e: WorkerTaskError): void;
  settled: Promise<void>;
}

interface Slot { worker: Worker; busy?: Task; loaded: Set<string>; lastError?: string; closing?: boolean }

const ENTRY = new URL('./worker-entry.ts', import.meta.url).href;

/** Worker threads must run TypeScript, but Node 20 ignores `--import` in a worker's execArgv (so
 * `execArgv: ['--import', 'tsx']` does not work): a tiny eval'd script registers tsx's hooks through
 * its API, then imports the entry. */
function bootScript(): string {
  let tsx: string | undefined;
  try { tsx = import.meta.resolve('tsx/esm/api'); } catch { tsx = undefined; } // compiled JS needs no tsx
  const entry = `import(${JSON.stringify(ENTRY)})`;
  if (!tsx) return entry;
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return ${entry}; })`;
}

// tsx's own flags (`--import tsx`, or the tsx CLI's loader paths) are dropped: the boot script registers
// it; other flags (conditions, warnings) pass on to the thread
const TSX_FLAG = /^(--import|--loader|--experimental-loader|--require|-r)$/;
const isTsx = (v: string | undefined) => v !== undefined && /^tsx(\/|$)|[/\\]tsx[/\\]dist[/\\]/.test(v);
function workerExecArgv(): string[] {
  const args = process.execArgv;
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    if (eq > 0 && TSX_FLAG.test(a.slice(0, eq)) && isTsx(a.slice(eq + 1))) continue;
    if (TSX_FLAG.test(a) && isTsx(args[i + 1])) { i++; continue; }
    out.push(a);
  }
  return out;
}

export class WorkerPool {
  readonly size: number;
  readonly closeTimeoutMs: number;
  private readonly slots: Slot[] = [];
  private queue: Task[] = [];
  private nextId = 0;
  private closed?: Promise<void>;

  constructor(opts: WorkerPoolOptions = {}) {
    this.size = opts.size ?? availableParallelism();
    if (!Number.isInteger(this.size) || this.size < 1) throw new Error(`WorkerPool: size must be an integer >= 1, got ${opts.size}`);
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
  }

  /** Threads currently alive. */
  get threads(): number { return this.slots.length; }

  /** Run one kernel on one batch in a worker thread. Rejects with a WorkerTaskError. */
  run(spec: KernelSpec, batch: RecordBatch): Promise<TaskResult> {
    if (this.closed) return Promise.reject(new WorkerTaskError('the worker pool is closed'));
    let key: string;
    let bytes: ArrayBuffer;
    try {
      key = `${spec.module}#${spec.id}#${spec.parsed}#${JSON.stringify(spec.config)}`;
      bytes = batchToIPC(batch);
    } catch (err) {
      return Promise.reject(new WorkerTaskError(`cannot send the batch or config to a worker: ${err instanceof Error ? err.message : String(err)}`));
    }
    let resolve!: (r: TaskResult) => void, reject!: (e: WorkerTaskError) => void, settle!: () => void;
    const settled = new Promise<void>((r) => { settle = r; });
    const result = new Promise<TaskResult>((res, rej) => {
      resolve = (r) => { settle(); res(r); };
      reject = (e) => { settle(); rej(e); };
    });
    this.queue.push({ id: this.nextId++, key, spec, bytes, input: batch, resolve, reject, settled });
    this.dispatch();
    return result;
  }

  /** An RxJS operator running a parallel operator's kernel on this pool, `concurrency` batches in
   * flight, output in input order: `src$.pipe(pool.map(normalize, { form: 'NFC' }))`. `op` is the
   * operator's factory, or `{ module, id }` to name one this thread has not imported (its config is
   * then validated in the worker). */
  map(op: AnyFactory | { module: string; id: string }, config: unknown = {}, opts: { concurrency?: number; ctx?: Partial<OperatorContext> } = {}): OperatorFunction<RecordBatch, RecordBatch> {
    let spec: KernelSpec;
    if ('def' in op) {
      const def = defOf(op);
      if (def.kind === 'source' || def.kind === 'sink' || !def.kernel || !def.module)
        throw new Error(`operator ${def.id} cannot run on workers: it needs a kernel and module (import.meta.url) in its definition`);
      spec = { module: def.module, id: def.id, config: parseConfig(def, config, opts.ctx?.nodeId), parsed: true };
    } else spec = { module: op.module, id: op.id, config, parsed: false };
    const ctx = makeContext(opts.ctx?.nodeId ?? spec.id, opts.ctx);
    return workerMap(this, spec, opts.concurrency ?? this.size, ctx);
  }

  /** Waits for running tasks (at most closeTimeoutMs), then terminates every thread. Tasks not yet
   * started are rejected. Safe to call more than once. */
  close(timeoutMs = this.closeTimeoutMs): Promise<void> {
    this.closed ??= (async () => {
      const waiting = this.queue;
      this.queue = [];
      for (const t of waiting) t.reject(new WorkerTaskError('the worker pool closed before this task started'));
      const running = this.slots.flatMap((s) => (s.busy ? [s.busy.settled] : []));
      if (running.length > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(running), new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); })]);
        clearTimeout(timer);
      }
      await Promise.all(this.slots.map((s) => { s.closing = true; return s.worker.terminate(); }));
    })();
    return this.closed;
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const task = this.queue.shift()!;
      const msg: TaskMessage = { id: task.id, key: task.key, bytes: task.bytes, ...(slot.loaded.has(task.key) ? {} : { spec: task.spec }) };
      try { slot.worker.postMessage(msg, [task.bytes]); } catch (err) {
        task.reject(new WorkerTaskError(`cannot send the task to a worker (operator configs must be structured-cloneable): ${err instanceof Error ? err.message : String(err)}`));
        continue;
      }
      slot.busy = task;
      slot.loaded.add(task.key);
      slot.worker.ref();
    }
  }

  private spawn(): Slot {
    const worker = new Worker(bootScript(), { eval: true, execArgv: workerExecArgv() });
    worker.unref();
    const slot: Slot = { worker, loaded: new Set() };
    this.slots.push(slot);
    worker.on('message', (m: ReplyMessage) => this.onReply(slot, m));
    worker.on('error', (err) => { slot.lastError = err instanceof Error ? err.message : String(err); });
    worker.on('exit', (code) => this.onExit(slot, code));
    return slot;
  }

  private onReply(slot: Slot, m: ReplyMessage): void {
    const task = slot.busy;
    if (!task || task.id !== m.id) return;
    slot.busy = undefined;
    slot.worker.unref();
    if (m.kind === 'fail') task.reject(new WorkerTaskError(m.reason, m.location));
    else {
      try { task.resolve({ batch: applyDelta(task.input, m), kernelMs: m.kernelMs }); } catch (err) {
        task.reject(new WorkerTaskError(`cannot read the worker's result: ${err instanceof Error ? err.message : String(err)}`));
      }
    }
    this.dispatch();
  }

  private onExit(slot: Slot, code: number): void {
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
    const task = slot.busy;
    slot.busy = undefined;
    if (task) {
      task.reject(slot.closing
        ? new WorkerTaskError('the worker pool closed (its close timeout passed) before this task finished')
        : new WorkerTaskError(`worker thread crashed (exit code ${code}${slot.lastError ? `: ${slot.lastError}` : ''}) while running operator ${task.spec.id}; ` +
          'look in its kernel for process.exit, errors thrown from callbacks, or memory growth', {}, true));
    }
    this.dispatch(); // a replacement thread starts if tasks are waiting
  }
}
