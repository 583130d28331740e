// Who runs a task sent ahead to a worker thread: the thread it was sent to, or, if the pool takes it
// back before that thread starts it, whichever thread the pool gives it to next. A thread runs its
// batches one at a time and reads messages only between them, so a task waiting behind a long batch
// cannot be asked back by message; instead each such task has a cell in shared memory that the
// thread and the pool race to change from WAITING, with an atomic compare-and-exchange: exactly one
// wins. The pool's cells are recycled once the thread has answered the task (done, failed, skipped).
const WAITING = 0;
const STARTED = 1;
const TAKEN = 2;

export class Claims {
  readonly cells: Int32Array;
  private readonly free: number[];

  constructor(n: number) {
    this.cells = new Int32Array(new SharedArrayBuffer(4 * n));
    this.free = Array.from({ length: n }, (_, i) => n - 1 - i);
  }

  /** A cell for a task about to be sent, marked waiting; -1 when none is free (the task then cannot
   * be taken back). */
  open(): number {
    const cell = this.free.pop();
    if (cell === undefined) return -1;
    Atomics.store(this.cells, cell, WAITING);
    return cell;
  }

  /** True when the pool took the task back: its thread will skip it (and only then is the cell freed). */
  take(cell: number): boolean {
    return cell >= 0 && Atomics.compareExchange(this.cells, cell, WAITING, TAKEN) === WAITING;
  }

  /** The thread answered the task in `cell`. */
  close(cell: number): void {
    if (cell >= 0) this.free.push(cell);
  }
}

/** On the worker thread: true when this thread may run the task (the pool has not taken it back). */
export function claim(cells: Int32Array, cell: number): boolean {
  return Atomics.compareExchange(cells, cell, WAITING, STARTED) === WAITING;
}
