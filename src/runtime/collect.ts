// Garbage collection paced by the batch bytes a thread is done with. Batches live outside the JS heap
// (ArrayBuffers, SharedArrayBuffers), so a thread that allocates little else rarely fills its young
// generation and V8 lets such garbage pile up: in a worker, ~64 MB of it per thread; for shared memory,
// which V8 does not count at all toward starting a collection, until the JS heap happens to fill
// (shared-memory.ts). A pacer asks for a young-generation collection (~1 ms:
// the buffers of batches done with are young) after every `everyBytes` it is told of, and for a full,
// asynchronous one every `majorEvery` of those (what outlived a scavenge). `gc` is V8's own function,
// exposed to a fresh context by the --expose-gc flag set here.
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
  constructor(private readonly everyBytes: number, private readonly majorEvery = Infinity) {}

  /** `bytes` of batch memory were handed out or are done with. */
  add(bytes: number): void {
    this.since += bytes;
    if (this.since < this.everyBytes) return;
    this.since = 0;
    const collect = v8Gc();
    if (!collect) return;
    if (++this.collections % this.majorEvery === 0) void collect({ type: 'major', execution: 'async' });
    else void collect({ type: 'minor' });
  }
}
