// The JS heap a pool thread may grow to before V8 considers a full collection. A kernel thread's live
// heap is small (~12 MB: the kernel, a tokenizer's piece cache) and its batches live outside it, so V8
// sets its old generation's limit from that (~35 MB) and then starts incremental marking long before it
// is reached (node --trace-incremental-marking: "Start (task)" at 11-12 MB of 35): in prep's steady state
// ~1.5 full collections per thread per 12 MB of text where tokenizing alone had ~0.5 (--trace-gc), each
// freeing almost nothing (~12 MB before and after), ~40 ms of V8's helper threads' CPU per round.
// A floor under that limit (V8's --initial-old-space-size, read when an isolate's heap is set up) leaves
// those out; the collections the pacer asks for (collect.ts: one every 64 MB of batches) still run.
// Worker threads refuse V8 flags in execArgv, so the flag is set while pool threads start and cleared
// once they run (the heap is set up by then): other isolates of the process keep V8's defaults (but for
// one that starts in that window). A process started with its own --initial-old-space-size keeps it.
import { setFlagsFromString } from 'node:v8';
import { setsV8Flag } from './v8-flag.mjs';
import type { Worker } from 'node:worker_threads';

export const FLOOR_MB = 64;

/** Whether the process's command line sets the initial old space itself (NODE_OPTIONS cannot: Node
 * refuses the flag there). */
export function ownFloor(execArgv: readonly string[]): boolean {
  return setsV8Flag(execArgv, 'initial-old-space-size');
}

const keepOwn = ownFloor(process.execArgv);
let starting = 0;

/** `create()` run with the old generation's floor set for the isolate it starts. */
export function withHeapFloor(create: () => Worker): Worker {
  if (keepOwn) return create();
  if (starting++ === 0) setFlagsFromString(`--initial-old-space-size=${FLOOR_MB}`);
  let worker: Worker;
  try {
    worker = create();
  } catch (err) {
    started();
    throw err;
  }
  let once = false;
  const done = () => {
    if (once) return;
    once = true;
    started();
  };
  worker.once('online', done);
  worker.once('exit', done);
  return worker;
}

function started(): void {
  if (--starting === 0) setFlagsFromString('--initial-old-space-size=0');
}
