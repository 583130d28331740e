// What the worker pool (worker-pool.ts) and its callers say about a task: its options, its result,
// its error, and the pool's own records of a task and of a thread with the tasks sent to it.
import type { Worker } from 'node:worker_threads';
import type { RecordBatch } from 'apache-arrow';
import type { InputLocation } from '../core/errors.ts';
import type { PackedBatch } from './ipc.ts';
import type { KernelSpec } from './worker-entry.ts';

/** A task that failed in a worker: the kernel threw (`reason`, `location` as the kernel gave them),
 * or the thread died (`crashed`), or the pool closed first. */
export class WorkerTaskError extends Error {
  override readonly name = 'WorkerTaskError';
  constructor(
    readonly reason: string,
    readonly location: InputLocation = {},
    readonly crashed = false,
  ) {
    super(reason);
  }
}

export interface WorkerPoolOptions {
  /** most threads the pool starts (default: os.availableParallelism()) */
  size?: number;
  /** how long close() waits for running tasks before terminating their threads (default 10 s) */
  closeTimeoutMs?: number;
  /** tasks sent to a thread ahead of its results (default 2: one running, one waiting) */
  depth?: number;
}

export interface RunOptions {
  /** most threads this kernel (module, operator, config) may occupy at once (default: the pool size) */
  threads?: number;
}

export interface TaskResult {
  batch: RecordBatch;
  kernelMs: number;
}

export interface Task {
  id: number;
  key: string;
  spec: KernelSpec;
  input: RecordBatch;
  threads: number;
  /** the input packed for the thread, made when the task is sent (again if a dead thread had it queued) */
  packed?: PackedBatch;
  /** its cell in the pool's claims while a thread has it (-1: none) */
  cell: number;
  resolve(r: TaskResult): void;
  reject(e: WorkerTaskError): void;
  settled: Promise<void>;
}

/** A thread and the tasks sent to it, in the order it runs them (the first is running). */
export interface Slot {
  worker: Worker;
  tasks: Task[];
  loaded: Set<string>;
  lastError?: string;
  closing?: boolean;
  /** cells of tasks taken back from this thread that it has not yet skipped */
  taken: Set<number>;
}
