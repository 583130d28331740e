// Garbage collection paced by the batch bytes a thread is done with. Batches live outside the JS heap
// (ArrayBuffers, SharedArrayBuffers), so a thread that allocates little else rarely fills its young
// generation and V8 lets such garbage pile up: in a worker, ~64 MB of it per thread; for shared memory,
// which V8 does not count at all toward starting a collection, until the JS heap happens to fill
// (shared-memory.ts). A pacer asks for a young-generation collection (~1 ms:
// the buffers of batches done with are young) after every `everyBytes` it is told of, and for a full
// one every `majorEvery` of those (what outlived a scavenge). `gc` is V8's own function, exposed to a
// fresh context by the --expose-gc flag set here.
//
// The full collection is not gc({ type: 'major' }): V8 counts that one as forced, and a forced
// collection lets go of what optimized code depends on (maps kept alive for it, among others), so
// every function of the thread is deoptimized and compiled again. In prep that was ~40 ms of
// compiling per round after each such collection on the main thread, and the tokenizer's code in
// each worker (test/runtime/collect.test.ts shows a function losing its optimized code). Instead the
// pacer announces a large ArrayBuffer it never touches (virtual memory only, freed at once): memory
// outside the heap growing 64 MB past what the last full collection left makes V8 start incremental
// marking of its own, an ordinary full collection that keeps optimized code.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (o: { type: 'minor' } | { type: 'major'; execution: 'async' }) => Promise<void> | undefined;
let gc: Gc | null | undefined;
function v8Gc(): Gc | null {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    const f = runInNewContext('gc') as unknown;
    gc = typeof f === 'function' ? (f as Gc) : null;
  }
  return gc;
}

export class CollectionPacer {
  private since = 0;
  private collections = 0;
  constructor(
    private readonly everyBytes: number,
    private readonly majorEvery = Infinity,
  ) {}

  /** `bytes` of batch memory were handed out or are done with. */
  add(bytes: number): void {
    this.since += bytes;
    if (this.since < this.everyBytes) return;
    this.since = 0;
    const collect = v8Gc();
    if (!collect) return;
    if (++this.collections % this.majorEvery === 0) fullCollection(collect);
    else void collect({ type: 'minor' });
  }
}

// past V8's 64 MB step (measured: with 96 MB V8 starts marking, and does not force a collection)
const ANNOUNCED_BYTES = 96 << 20;

/** An unforced full collection, started by V8 itself (see the top of this file). */
function fullCollection(collect: Gc): void {
  try {
    void new ArrayBuffer(ANNOUNCED_BYTES); // allocating it is the point
  } catch {
    // no room even for the address space: a forced collection then
    void collect({ type: 'major', execution: 'async' });
  }
}
