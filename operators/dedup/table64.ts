// An open-addressing hash table from 64-bit keys (two uint32 halves) to a uint32 value, in typed
// arrays: 12 bytes a slot, no per-entry objects, so its memory is known from its entry bound. It grows
// by doubling up to the capacity its bound needs and refuses (returns false) beyond that bound.
export const MAX_LOAD = 0.75;
const INITIAL_SLOTS = 1024;

export class Table64 {
  lo: Uint32Array;
  hi: Uint32Array;
  val: Uint32Array;
  size = 0;
  /** most entries it accepts; the caller decides what happens when it is full */
  readonly maxEntries: number;
  private readonly maxSlots: number;

  constructor(maxEntries: number) {
    if (!(maxEntries >= 1)) throw new Error(`Table64: maxEntries must be >= 1, got ${maxEntries}`);
    this.maxEntries = maxEntries;
    this.maxSlots = Math.ceil(maxEntries / MAX_LOAD) + 1;
    const slots = Math.min(INITIAL_SLOTS, this.maxSlots);
    this.lo = new Uint32Array(slots);
    this.hi = new Uint32Array(slots);
    this.val = new Uint32Array(slots);
  }

  /** Bytes the table holds at its bound: what operators declare as their memory bound. */
  static bytesAtBound(maxEntries: number): number {
    return (Math.ceil(maxEntries / MAX_LOAD) + 1) * 12;
  }

  get bytes(): number {
    return this.lo.length * 12;
  }
  get full(): boolean {
    return this.size >= this.maxEntries;
  }

  /** The value stored for the key, or -1. */
  get(lo: number, hi: number): number {
    if (lo === 0 && hi === 0) hi = 1; // (0,0) marks an empty slot
    const cap = this.lo.length;
    for (let i = (hi >>> 0) % cap; ; i = i + 1 === cap ? 0 : i + 1) {
      const l = this.lo[i]!,
        h = this.hi[i]!;
      if (l === lo >>> 0 && h === hi >>> 0) return this.val[i]!;
      if (l === 0 && h === 0) return -1;
    }
  }

  /** Insert when absent (the first value wins). Returns the stored value (the existing one when the key
   * was present), or -2 when the key is new and the table is at its bound (nothing inserted). */
  add(lo: number, hi: number, value: number): number {
    if (lo === 0 && hi === 0) hi = 1;
    lo >>>= 0;
    hi >>>= 0;
    let cap = this.lo.length;
    for (let i = hi % cap; ; i = i + 1 === cap ? 0 : i + 1) {
      const l = this.lo[i]!,
        h = this.hi[i]!;
      if (l === lo && h === hi) return this.val[i]!;
      if (l === 0 && h === 0) {
        if (this.size >= this.maxEntries) return -2;
        if (this.size + 1 > cap * MAX_LOAD && cap < this.maxSlots) {
          this.resize(Math.min(cap * 2, this.maxSlots));
          cap = this.lo.length;
          i = hi % cap;
          while (this.lo[i] !== 0 || this.hi[i] !== 0) i = i + 1 === cap ? 0 : i + 1;
        }
        this.lo[i] = lo;
        this.hi[i] = hi;
        this.val[i] = value >>> 0;
        this.size++;
        return value >>> 0;
      }
    }
  }

  clear(): void {
    const slots = Math.min(INITIAL_SLOTS, this.maxSlots);
    this.lo = new Uint32Array(slots);
    this.hi = new Uint32Array(slots);
    this.val = new Uint32Array(slots);
    this.size = 0;
  }

  private resize(slots: number): void {
    const { lo, hi, val } = this;
    this.lo = new Uint32Array(slots);
    this.hi = new Uint32Array(slots);
    this.val = new Uint32Array(slots);
    for (let j = 0; j < lo.length; j++) {
      const l = lo[j]!,
        h = hi[j]!;
      if (l === 0 && h === 0) continue;
      let i = h % slots;
      while (this.lo[i] !== 0 || this.hi[i] !== 0) i = i + 1 === slots ? 0 : i + 1;
      this.lo[i] = l;
      this.hi[i] = h;
      this.val[i] = val[j]!;
    }
  }

  /** The arrays to persist (see state-file.ts); `restore` takes them back. */
  arrays(): { lo: Uint32Array; hi: Uint32Array; val: Uint32Array } {
    return { lo: this.lo, hi: this.hi, val: this.val };
  }

  restore(lo: Uint32Array, hi: Uint32Array, val: Uint32Array): void {
    if (lo.length !== hi.length || lo.length !== val.length || lo.length > this.maxSlots) {
      throw new Error(
        `saved table has ${lo.length} slots, more than the ${this.maxSlots} this bound allows (or mismatched arrays)`,
      );
    }
    this.lo = lo;
    this.hi = hi;
    this.val = val;
    let n = 0;
    for (let i = 0; i < lo.length; i++) if (lo[i] !== 0 || hi[i] !== 0) n++;
    this.size = n;
  }
}
