// The n-gram index's storage: 64-bit keys (two 32-bit lanes) in an open-addressing table whose slots
// hold key and first posting side by side (one cache line per probe), a one-bit-per-hash filter in
// front of it (most windows of training text are in no eval set: they stop at one bit, in a bitmap
// small enough for the L2 cache), and postings as linked lists in typed arrays.

const EMPTY = -1;

export class NgramTable {
  // stride 3: key lo, key hi, first posting (EMPTY: a free slot)
  private slots = new Int32Array(3 << 12).fill(EMPTY);
  private mask = (1 << 12) - 1;
  // 8 filter bits per slot: with the table at most half full, 16-32 bits per key (3-6% pass in vain)
  private filter = new Uint32Array((8 << 12) >>> 5);
  private filterMask = (8 << 12) - 1;
  size = 0;
  private task = new Int32Array(1 << 12);
  private item = new Int32Array(1 << 12);
  private next = new Int32Array(1 << 12);
  private postings = 0;

  /** The first posting of key (lo, hi), or -1 when the key is not held. */
  first(lo: number, hi: number): number {
    const b = hi & this.filterMask;
    if ((this.filter[b >>> 5]! & (1 << (b & 31))) === 0) return -1;
    const slots = this.slots;
    for (let s = lo & this.mask; ; s = (s + 1) & this.mask) {
      const at = s * 3;
      const head = slots[at + 2]!;
      if (head === EMPTY) return -1;
      if (slots[at] === (lo | 0) && slots[at + 1] === (hi | 0)) return head;
    }
  }

  taskOf(p: number): number {
    return this.task[p]!;
  }
  itemOf(p: number): number {
    return this.item[p]!;
  }
  /** the next posting of the same key, or -1 */
  nextOf(p: number): number {
    return this.next[p]!;
  }

  /** Adds posting (task, item) to key (lo, hi); nothing when that item is already the key's latest. */
  add(lo: number, hi: number, task: number, item: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const slots = this.slots;
    let s = lo & this.mask;
    for (; slots[s * 3 + 2] !== EMPTY; s = (s + 1) & this.mask)
      if (slots[s * 3] === (lo | 0) && slots[s * 3 + 1] === (hi | 0)) break;
    const at = s * 3;
    const head = slots[at + 2]!;
    if (head === EMPTY) {
      slots[at] = lo;
      slots[at + 1] = hi;
      this.size++;
      const b = hi & this.filterMask;
      this.filter[b >>> 5]! |= 1 << (b & 31);
    } else if (this.task[head] === task && this.item[head] === item) return; // the item repeats an n-gram
    const p = this.postings++;
    if (p === this.task.length) {
      this.task = grown(this.task);
      this.item = grown(this.item);
      this.next = grown(this.next);
    }
    this.task[p] = task;
    this.item[p] = item;
    this.next[p] = head;
    slots[at + 2] = p;
  }

  private grow(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    this.slots = new Int32Array(cap * 3).fill(EMPTY);
    this.mask = cap - 1;
    this.filter = new Uint32Array((cap * 8) >>> 5);
    this.filterMask = cap * 8 - 1;
    for (let at = 0; at < old.length; at += 3) {
      if (old[at + 2] === EMPTY) continue;
      const lo = old[at]!;
      const hi = old[at + 1]!;
      let s = lo & this.mask;
      while (this.slots[s * 3 + 2] !== EMPTY) s = (s + 1) & this.mask;
      this.slots.set(old.subarray(at, at + 3), s * 3);
      const b = hi & this.filterMask;
      this.filter[b >>> 5]! |= 1 << (b & 31);
    }
  }
}

function grown(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
