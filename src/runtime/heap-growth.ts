// How far V8 lets a cluster coordinator's heap grow past what its last full collection kept. V8 sizes
// that step from how fast a program allocates against how fast it collects; a coordinator mostly waits
// for workers and merges their outputs in bursts, so V8 judges it a slow allocator and allowed 1.2-3x its
// ~18 MB of live heap: 9-13 full collections per job on the cluster bench's 64 MB (node --trace-gc), each
// ~5-15 ms on the main thread plus marking on V8's helper threads, on the cores the workers tokenize on.
// A fixed factor of 4 (V8's --heap-growing-percent=300; V8 reads it whenever it recomputes a limit, so it
// can be set while the process runs): in 8 ABBA pairs, full collections 12 -> 4, the coordinator's CPU
// 1.22 -> 0.99 s, its peak RSS 189 -> 193 MB (medians). The heap stays proportional to what is live. A
// process started with its own --heap-growing-percent keeps it.
import { setFlagsFromString } from 'node:v8';
import { setsV8Flag } from './v8-flag.mjs';

export const COORDINATOR_HEAP_GROWING_PERCENT = 300;

/** Whether the process's command line sets V8's heap growing factor itself. */
export function ownHeapGrowth(execArgv: readonly string[]): boolean {
  return setsV8Flag(execArgv, 'heap-growing-percent');
}

/** Sets the coordinator's heap growing factor for the whole process (V8 flags are per process);
 * returns whether it did. */
export function growCoordinatorHeap(execArgv: readonly string[] = process.execArgv): boolean {
  if (ownHeapGrowth(execArgv)) return false;
  setFlagsFromString(`--heap-growing-percent=${COORDINATOR_HEAP_GROWING_PERCENT}`);
  return true;
}
