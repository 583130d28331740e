// An async generator exported by a module, run in a worker thread of its own and pulled one item
// ahead. Why: some libraries trap on bad input from inside an async callback (parquet-wasm on a
// corrupt page raises a WebAssembly `unreachable` from a microtask), which no try/catch can stop and
// which leaves the wasm instance unusable. In a disposable thread the trap ends only that thread: the
// caller keeps every item received before it and gets an IsolatedCrash it can act on.
import { tsWorker } from './thread-boot.ts';

/** What the worker-side generator yields: a value and the buffers to move (not copy) with it. */
export interface IsolatedItem<T> {
  value: T;
  transfer?: ArrayBuffer[];
}

export type IsolatedMessage<T> = { kind: 'value'; value: T } | { kind: 'done' } | { kind: 'error'; message: string };

/** The worker thread died (a trap, an uncaught error, or exit) before its generator finished. */
export class IsolatedCrash extends Error {
  override readonly name = 'IsolatedCrash';
}

const ENTRY = new URL('./isolated-entry.ts', import.meta.url).href;

/**
 * Items of `module`'s export `name` called with `args` in a new worker thread. The worker is
 * terminated when the caller stops early or the generator ends.
 */
export async function* isolated<T>(module: string, name: string, args: unknown): AsyncGenerator<T> {
  const worker = tsWorker(ENTRY, { workerData: { module, name, args } });
  let wake: (() => void) | undefined;
  const inbox: IsolatedMessage<T>[] = [];
  let crash: IsolatedCrash | undefined;
  let finished = false;
  worker.on('message', (m: IsolatedMessage<T>) => {
    inbox.push(m);
    wake?.();
  });
  worker.on('error', (err) => {
    crash ??= new IsolatedCrash(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    wake?.();
  });
  worker.on('exit', (code) => {
    if (!finished) crash ??= new IsolatedCrash(`worker thread exited with code ${code}`);
    wake?.();
  });
  const receive = async (): Promise<IsolatedMessage<T>> => {
    while (inbox.length === 0) {
      if (crash) throw crash;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    return inbox.shift()!;
  };
  try {
    worker.postMessage('next');
    for (;;) {
      const m = await receive();
      if (m.kind === 'done') {
        finished = true;
        return;
      }
      if (m.kind === 'error') {
        finished = true;
        throw new Error(m.message);
      }
      worker.postMessage('next'); // one item ahead: the thread works while the caller handles this one
      yield m.value;
    }
  } finally {
    finished = true;
    await worker.terminate();
  }
}
