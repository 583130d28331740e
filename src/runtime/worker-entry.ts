// The worker thread side of the pool: import an operator's module, build its kernel from the config
// once per thread, and apply it to each batch that arrives packed (ipc.ts). Tasks run one at a time,
// in the order they arrive (the pool may send the next while one runs). A task with a claim cell runs
// only if this thread claims it first: the pool may take a task back before it starts (claims.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { RecordBatch } from 'apache-arrow';
import { defOf, parseConfig, type AnyFactory } from '../core/operator.ts';
import type { InputLocation } from '../core/errors.ts';
import { diffBatch, packedBytes, transferList, unpackBatch, type BatchDelta, type PackedBatch } from './ipc.ts';
import { CollectionPacer } from './collect.ts';
import { claim } from './claims.ts';

/** Which kernel to run: the operator `id` exported by `module` (a file URL), with its config. */
export interface KernelSpec {
  module: string;
  id: string;
  config: unknown;
  /** true when `config` already went through the operator's zod schema */
  parsed: boolean;
}

export interface TaskMessage {
  id: number;
  /** identifies the kernel (module, operator and config) within this thread */
  key: string;
  /** sent the first time a thread sees `key` */
  spec?: KernelSpec;
  batch: PackedBatch;
  /** the task's cell in the pool's claims (-1: none), see claims.ts */
  cell: number;
}

export type ReplyMessage =
  | ({ kind: 'done'; id: number; kernelMs: number } & BatchDelta)
  | { kind: 'fail'; id: number; message: string; reason: string; location?: InputLocation }
  /** the pool took the task back before it started: its cell is free again */
  | { kind: 'skipped'; id: number; cell: number };

type Kernel = (batch: RecordBatch) => RecordBatch;

// A worker frees the batches it is done with every 2 MB of them (collect.ts): where the full
// collection asked for before (every 8 MB) kept V8's helper threads busy for ~15% of the kernel's CPU
// time, a scavenge takes ~1 ms; and with two batches queued per thread, buffers freed late left the
// allocator's heaps fragmented (peak RSS on 4x the corpus grew ~10% more than with 2 MB between
// scavenges). Large documents' strings that outlive a scavenge go with a full collection every 32.
const pacer = new CollectionPacer(2 << 20, 32);

const isFactory = (v: unknown): v is AnyFactory =>
  typeof v === 'function' && typeof (v as { def?: { id?: unknown } }).def?.id === 'string';

async function load(spec: KernelSpec): Promise<Kernel> {
  const mod = (await import(spec.module)) as Record<string, unknown>;
  const factory = Object.values(mod).find((v) => isFactory(v) && v.def.id === spec.id) as AnyFactory | undefined;
  if (!factory) throw new Error(`module ${spec.module} exports no operator with id "${spec.id}"`);
  const def = defOf(factory);
  if (def.kind === 'source' || def.kind === 'sink' || !def.kernel)
    throw new Error(`operator ${spec.id} has no kernel to run on a worker`);
  const config = spec.parsed ? spec.config : parseConfig(def, spec.config);
  return def.kernel(config);
}

// Built kernels can be large (a tokenizer's piece cache, tens of MB), so a thread keeps the few it used
// last; the specs they came from are small and kept, so an evicted kernel is rebuilt when asked again.
const MAX_KERNELS = 8;
const kernels = new Map<string, Promise<Kernel>>();
const specs = new Map<string, KernelSpec>();

function kernelFor(key: string): Promise<Kernel> {
  let kernel = kernels.get(key);
  if (kernel) {
    kernels.delete(key);
    kernels.set(key, kernel);
    return kernel;
  } // most recent last
  const known = specs.get(key);
  if (!known) throw new Error(`internal: kernel ${key} was never sent to this worker`);
  kernel = load(known);
  kernels.set(key, kernel);
  if (kernels.size > MAX_KERNELS) kernels.delete(kernels.keys().next().value!);
  return kernel;
}

function failure(id: number, err: unknown): ReplyMessage {
  const message = err instanceof Error ? err.message : String(err);
  // A FlowError thrown by the kernel keeps its own reason and location (the class may come from
  // another copy of the module, so it is recognised by shape).
  const e = err as { name?: unknown; reason?: unknown; location?: unknown };
  if (e && e.name === 'FlowError' && typeof e.reason === 'string')
    return { kind: 'fail', id, message, reason: e.reason, location: (e.location ?? {}) as InputLocation };
  return { kind: 'fail', id, message, reason: message };
}

const claims = (workerData as { claims?: Int32Array } | undefined)?.claims;

async function handle(m: TaskMessage): Promise<void> {
  // the spec comes with the first task of its key this thread is sent, even one taken back
  if (m.spec) specs.set(m.key, m.spec);
  // taken back by the pool: skipped before anything (its kernel not even loaded), so its cell is freed
  if (claims && m.cell >= 0 && !claim(claims, m.cell)) {
    port.postMessage({ kind: 'skipped', id: m.id, cell: m.cell } satisfies ReplyMessage);
    return;
  }
  try {
    const fn = await kernelFor(m.key);
    const input = unpackBatch(m.batch);
    const t0 = performance.now();
    const output = fn(input);
    const kernelMs = performance.now() - t0;
    if (!(output instanceof RecordBatch)) throw new Error(`kernel returned ${typeof output}, expected a RecordBatch`);
    const delta = diffBatch(input, output, true); // the reply in shared memory: read in place there
    const reply: ReplyMessage = { kind: 'done', id: m.id, kernelMs, ...delta };
    // in and out, shared memory too: the input's shared buffers whole (this thread's views of a slab
    // keep all of it alive until collected; counted per batch, measured: 4x peak RSS ~12 MB lower than
    // counting only the bytes viewed), the reply's ids as the bytes they take
    let moved = m.batch.body.byteLength + (delta.packed ? packedBytes(delta.packed) : 0);
    for (const sab of m.batch.shared ?? []) moved += sab.byteLength;
    // the input's body goes back too (unread there): the batch is done with, and a transferred buffer
    // leaves this thread at once rather than waiting for a collection
    port.postMessage(reply, [...(delta.packed ? transferList(delta.packed) : []), ...transferList(m.batch)]);
    pacer.add(moved);
  } catch (err) {
    port.postMessage(failure(m.id, err));
  }
}

if (!parentPort) throw new Error('worker-entry.ts runs only as a worker thread (WorkerPool starts it)');
const port = parentPort;
port.on('message', (m: TaskMessage) => void handle(m));
