// The gradient all-reduce started bucket by bucket while the backward pass still runs (issue 15, item
// 2; PyTorch DDP's bucketed overlap). Buckets are cut as DDP cuts them, from the last parameter to
// the first at parameter boundaries (a parameter bigger than a bucket is cut into bucket-sized
// ranges), so the blocks' gradients, final early, do not share a bucket with the embedding, final
// last; each bucket is still a contiguous range of the flat array. A bucket starts when every
// parameter it overlaps has its final gradient, as the piecewise backward (overlap-grads.ts) reports
// them from the head to the embeddings: in the same order on every rank, so the collective sees the
// same sequence of calls everywhere. Exactness: at world size 2 each element's mean is one sum of two
// values whatever the cut, so the result is allReduceMean's bit for bit; from world size 3 the
// ring's order of summation follows the cut, so it agrees to float rounding (every rank still holds
// identical bits).
import type { WireDtype } from '../../runtime/collectives/bf16-wire.ts';
import type { Collective } from '../../runtime/collectives/collective.ts';
import type { FlatLayout } from '../optim/flat-layout.ts';
import { BUCKET_ELEMS } from './replica-reduce.ts';

/** DDP's cut: whole parameters from the last to the first while a bucket has room for them; one too big
 * for a bucket is cut from its end into bucket-sized ranges. With `pieceOf` (the backward piece that
 * finishes a parameter) a bucket never spans two pieces, so none waits for a later piece's parameter
 * (the position table next to the embedding, say). [start, end) ranges, last first. */
export function reverseBuckets(
  layout: FlatLayout,
  bucketElems = BUCKET_ELEMS,
  pieceOf: (name: string) => number = () => 0,
): Array<[number, number]> {
  if (!(Number.isInteger(bucketElems) && bucketElems >= 1))
    throw new Error(`reverseBuckets: bucketElems must be an integer >= 1, got ${bucketElems}`);
  const out: Array<[number, number]> = [];
  let end = layout.total; // the open bucket is [start, end)
  let start = end;
  let piece = Number.NaN; // of the open bucket's parameters
  const close = () => {
    if (start < end) out.push([start, end]);
    end = start;
  };
  for (let i = layout.entries.length - 1; i >= 0; i--) {
    const e = layout.entries[i]!;
    const p = pieceOf(e.name);
    if (e.size > bucketElems) {
      close();
      for (let hi = e.offset + e.size; hi > e.offset; hi -= bucketElems)
        out.push([Math.max(e.offset, hi - bucketElems), hi]);
      start = end = e.offset;
      continue;
    }
    if (end - e.offset > bucketElems || (start < end && p !== piece)) close();
    start = e.offset;
    piece = p;
  }
  close();
  return out;
}

/** What happened when, for tests and the bench: a piece of the backward finished, a bucket's
 * all-reduce was handed to the collective, or it completed. */
export interface OverlapEvent {
  kind: 'piece' | 'reduce-start' | 'reduce-end';
  /** the piece ('head', 'h.3', 'embeddings'), or the bucket's [start, end) */
  what: string;
  /** performance.now() */
  t: number;
}

export interface BucketReducerOptions {
  bucketElems?: number;
  /** the backward piece that finishes a parameter, in the order they run (reverseBuckets) */
  pieceOf?: (name: string) => number;
  wire?: WireDtype;
  /** each element is multiplied by it just before its bucket goes (the 1 / micro-batches mean) */
  scale?: number;
  trace?: (e: OverlapEvent) => void;
}

/** Starts each bucket's all-reduce (mean over ranks, in place in `flat`) once its parameters are final. */
export class BucketReducer {
  private readonly ranges: Array<[number, number]>;
  /** per bucket: parameters overlapping it whose gradient is not final yet */
  private readonly pending: number[];
  /** per parameter: the buckets it overlaps */
  private readonly bucketsOf = new Map<string, number[]>();
  private readonly finals = new Set<string>();
  private readonly inFlight: Array<Promise<void>> = [];
  /** started and not yet completed */
  private running = 0;

  constructor(
    private readonly c: Collective,
    private readonly layout: FlatLayout,
    private readonly flat: Float32Array,
    private readonly o: BucketReducerOptions = {},
  ) {
    if (flat.length !== layout.total)
      throw new Error(`BucketReducer: flat gradient has ${flat.length} elements, the layout ${layout.total}`);
    this.ranges = reverseBuckets(layout, o.bucketElems ?? BUCKET_ELEMS, o.pieceOf);
    this.pending = this.ranges.map(([s, e]) => layout.segments(s, e).length);
    this.ranges.forEach(([s, e], b) => {
      for (const seg of layout.segments(s, e)) {
        const list = this.bucketsOf.get(seg.entry.name) ?? [];
        list.push(b);
        this.bucketsOf.set(seg.entry.name, list);
      }
    });
  }

  /** The gradients of `names` are final: start every bucket this completes. */
  markFinal(names: readonly string[]): void {
    for (const name of names) {
      if (this.finals.has(name)) throw new Error(`BucketReducer: parameter ${name} was reported final twice`);
      this.finals.add(name);
      for (const b of this.bucketsOf.get(name) ?? []) if (--this.pending[b]! === 0) this.start(b);
    }
  }

  private start(b: number): void {
    const [s, e] = this.ranges[b]!;
    const scale = this.o.scale ?? 1;
    if (scale !== 1) for (let i = s; i < e; i++) this.flat[i]! *= scale;
    const what = `[${s}, ${e})`;
    this.o.trace?.({ kind: 'reduce-start', what, t: performance.now() });
    // the collective runs its operations one at a time in call order: no chaining needed here
    const p = this.c.allReduce(this.flat.subarray(s, e), 'mean', { wire: this.o.wire ?? 'f32' });
    this.running++;
    this.inFlight.push(
      p.then(
        () => {
          this.running--;
          this.o.trace?.({ kind: 'reduce-end', what, t: performance.now() });
        },
        (err: unknown) => {
          this.running--;
          throw err;
        },
      ),
    );
  }

  /** Gives the started all-reduces turns of the event loop (each turn moves a message or so) until
   * they are all done or `budgetMs` has passed; at least one turn. */
  async drain(budgetMs: number): Promise<void> {
    const until = performance.now() + budgetMs;
    do await new Promise<void>((res) => setImmediate(res));
    while (this.running > 0 && performance.now() < until);
  }

  /** Waits for every bucket; all of them must have started (every parameter reported final). */
  async done(): Promise<void> {
    const missing = this.layout.entries.filter((e) => !this.finals.has(e.name)).map((e) => e.name);
    // still wait for the started ones, so no all-reduce is left running against a peer
    const settled = await Promise.allSettled(this.inFlight);
    if (missing.length > 0)
      throw new Error(
        `BucketReducer: the backward never reported the gradients of ${missing.slice(0, 4).join(', ')}` +
          `${missing.length > 4 ? ` and ${missing.length - 4} more` : ''} final; their buckets were not reduced`,
      );
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
  }
}
