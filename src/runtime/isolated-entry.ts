// The worker side of `isolated`: import the module, call its generator with the arguments, and send
// one item per 'next' request (buffers moved, not copied). An error thrown by the generator is sent
// as a message; a trap kills the thread, which the caller sees as an IsolatedCrash.
import { parentPort, workerData } from 'node:worker_threads';
import type { IsolatedItem, IsolatedMessage } from './isolated.ts';

const { module, name, args } = workerData as { module: string; name: string; args: unknown };
const port = parentPort!;
const mod = (await import(module)) as Record<string, unknown>;
const fn = mod[name];
if (typeof fn !== 'function') throw new Error(`module ${module} has no function export "${name}"`);
const it = (fn as (a: unknown) => AsyncIterable<IsolatedItem<unknown>>)(args)[Symbol.asyncIterator]();

const send = (m: IsolatedMessage<unknown>, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
port.on('message', () => {
  void it.next().then(
    (r) => (r.done ? send({ kind: 'done' }) : send({ kind: 'value', value: r.value.value }, r.value.transfer)),
    (err: unknown) => send({ kind: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
});
