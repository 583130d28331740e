// A growable Int32Array that token ids are appended to: one buffer for a whole batch, which becomes
// the values of the List<Int32> column without a copy.

export class IdBuffer {
  data: Int32Array;
  length = 0;

  /** `alloc`: where the buffer lives (shared memory for a kernel on a worker thread, see tokenize.ts) */
  constructor(
    capacity = 1024,
    private readonly alloc: (n: number) => Int32Array = (n) => new Int32Array(n),
  ) {
    this.data = alloc(Math.max(16, capacity));
  }

  push(id: number): void {
    if (this.length === this.data.length) this.reserve(1);
    this.data[this.length++] = id;
  }

  pushAll(ids: ArrayLike<number>): void {
    const k = ids.length;
    if (this.length + k > this.data.length) this.reserve(k);
    const d = this.data;
    let at = this.length;
    for (let x = 0; x < k; x++) d[at++] = ids[x]!;
    this.length = at;
  }

  /** The ids appended so far (a view, valid until the next append). */
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }

  /** Makes room for `extra` more ids (engines then write to `data` directly and set `length`). */
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    const next = this.alloc(Math.max(this.data.length * 2, this.length + extra));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}
