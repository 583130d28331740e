// CPU time of this process's threads, split three ways, for benches that compare two pipelines on one
// worker pool: the main thread, the pool's threads (the `poolSize` threads that used the most CPU
// over the whole bench, found at the end: they run the kernels) and the rest (V8's helper threads:
// concurrent marking, sweeping, compiling; libuv's file threads). Read from Linux's per-thread
// /proc/self/task/TID/schedstat (run time in ns); elsewhere every figure is null.
import { readdirSync, readFileSync } from 'node:fs';

export type ThreadTimes = Map<string, number>;

/** Run time (ms) of each thread now, by thread id; empty where /proc is missing. */
export function threadTimes(): ThreadTimes {
  const out: ThreadTimes = new Map();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const t of tids)
    try {
      out.set(t, Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
    } catch {
      // the thread ended between the listing and the read
    }
  return out;
}

/** Each thread's run time between two readings. */
export function threadDelta(before: ThreadTimes, after: ThreadTimes): ThreadTimes {
  const d: ThreadTimes = new Map();
  for (const [t, ms] of after) d.set(t, ms - (before.get(t) ?? 0));
  return d;
}

export interface ThreadSplit {
  main: number;
  pool: number;
  helpers: number;
}

/** Splits intervals' per-thread times into main / pool / helpers; the pool is the `poolSize` threads
 * busiest over all the intervals given (so one classification serves every configuration). */
export function splitThreads(intervals: ThreadTimes[], poolSize: number): Array<ThreadSplit | null> {
  const main = String(process.pid);
  const total = new Map<string, number>();
  for (const d of intervals) for (const [t, ms] of d) if (t !== main) total.set(t, (total.get(t) ?? 0) + ms);
  const pool = new Set(
    [...total]
      .sort((a, b) => b[1] - a[1])
      .slice(0, poolSize)
      .map(([t]) => t),
  );
  return intervals.map((d) => {
    if (d.size === 0) return null;
    const s: ThreadSplit = { main: 0, pool: 0, helpers: 0 };
    for (const [t, ms] of d) s[t === main ? 'main' : pool.has(t) ? 'pool' : 'helpers'] += ms;
    return s;
  });
}
