// All-reduce bandwidth of the ring collectives for one data-parallel gradient array (default 7.2M
// float32 = 28.8 MB, the 'tiny' model's size class) between 2 worker threads (SharedArrayBuffer
// mailboxes) and between 2 processes (TCP on 127.0.0.1). Baselines in this process: the same ring
// over the in-thread transport (memoryGroup: the copies and additions the ring does, no transport),
// and one plain elementwise add of two arrays (the arithmetic floor). Every round starts after a
// barrier; a round's time is the slowest rank's; figures are medians over the rounds.
// algbw = bytes / time; busbw = algbw * 2 (W - 1) / W (the bytes each link carries, NCCL's convention).
// The first `warmup` rounds (JIT, first-touch of buffers) are run but not counted.
// Args: floats=7200000 rounds=7 warmup=3 segment=<bytes, ring default>
import { Worker } from 'node:worker_threads';
import { loadavg } from 'node:os';
import { createThreadGroup } from '../src/runtime/collectives/thread-transport.ts';
import { memoryGroup } from '../src/runtime/collectives/memory-transport.ts';
import { tsWorker } from '../src/runtime/thread-boot.ts';
import type { ThreadRankData, ThreadRankReply } from '../test/fixtures/collectives-thread-rank.ts';
import { spawnGroup } from '../test/runtime/collectives/socket-group.ts';
import { rankInputs } from '../test/runtime/collectives/reference.ts';
import { median } from './_median.ts';

const arg = (args: string[], name: string, dflt: number | undefined) => {
  const a = args.find((x) => x.startsWith(`${name}=`));
  const v = a ? Number(a.slice(name.length + 1)) : dflt;
  if (v !== undefined && (!Number.isInteger(v) || v < 1))
    throw new Error(`bench allreduce: ${name} must be a positive integer, got ${a}`);
  return v;
};
/** per round after the warm-up ones, the slowest rank */
const slowest = (perRank: number[][], warmup: number) =>
  perRank[0]!.map((_, i) => Math.max(...perRank.map((r) => r[i]!))).slice(warmup);
const addInto = (x: Float32Array, y: Float32Array) => {
  for (let j = 0; j < x.length; j++) x[j] = x[j]! + y[j]!;
};

const THREAD_ENTRY = new URL('../test/fixtures/collectives-thread-rank.ts', import.meta.url).href;

async function threads(floats: number, rounds: number, warmup: number, segment: number | undefined): Promise<number[]> {
  const group = createThreadGroup(2, segment ? { slotBytes: segment } : {});
  const workers: Worker[] = [];
  const replies = await Promise.all(
    group.handles.map(
      (handle) =>
        new Promise<ThreadRankReply>((resolve, reject) => {
          const w = tsWorker(THREAD_ENTRY, {
            workerData: {
              handle,
              length: floats,
              seed: 1,
              op: 'mean',
              rounds: rounds + warmup,
            } satisfies ThreadRankData,
          });
          workers.push(w);
          group.watch(w, handle.rank);
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  const times = replies.map((m) => {
    if (m.kind !== 'done') throw new Error(`thread rank ${m.rank}: ${m.message}`);
    return m.msPerRound;
  });
  if (replies[0]!.kind === 'done' && replies[1]!.kind === 'done' && replies[0]!.checksum !== replies[1]!.checksum)
    throw new Error('thread ranks disagree');
  return slowest(times, warmup);
}

async function processes(
  floats: number,
  rounds: number,
  warmup: number,
  segment: number | undefined,
): Promise<number[]> {
  const g = await spawnGroup(2, {
    length: floats,
    seed: 1,
    op: 'mean',
    rounds: rounds + warmup,
    segmentBytes: segment,
  });
  try {
    const done = await Promise.all(
      [0, 1].map((r) => g.until(r, (l) => l.kind === 'done' || l.kind === 'failed', 300_000)),
    );
    const times = done.map((l) => {
      if (l.kind !== 'done') throw new Error(`process rank: ${JSON.stringify(l)}`);
      return l.msPerRound;
    });
    const [a, b] = done;
    if (a?.kind === 'done' && b?.kind === 'done' && a.checksum !== b.checksum)
      throw new Error('process ranks disagree');
    return slowest(times, warmup);
  } finally {
    g.kill();
  }
}

async function inThread(
  floats: number,
  rounds: number,
  warmup: number,
  segment: number | undefined,
): Promise<{ ring: number[]; add: number[] }> {
  const inputs = rankInputs(2, floats, 1);
  const g = memoryGroup(2, segment ? { segmentBytes: segment } : {});
  const ring: number[] = [],
    add: number[] = [];
  for (let i = 0; i < rounds + warmup; i++) {
    const data = inputs.map((a) => a.slice());
    let t0 = performance.now();
    await Promise.all(g.map((c) => c.allReduce(data[c.rank]!, 'mean')));
    ring.push(performance.now() - t0);
    const [x, y] = inputs.map((a) => a.slice()) as [Float32Array, Float32Array];
    t0 = performance.now();
    addInto(x, y);
    add.push(performance.now() - t0);
  }
  return { ring: ring.slice(warmup), add: add.slice(warmup) };
}

export default async function allreduce(args: string[]): Promise<Record<string, unknown>> {
  const floats = arg(args, 'floats', 7_200_000)!;
  const rounds = arg(args, 'rounds', 7)!;
  const warmup = arg(args, 'warmup', 3)!;
  const segment = arg(args, 'segment', undefined);
  const bytes = floats * 4;
  const load = loadavg()[0]!;
  const base = await inThread(floats, rounds, warmup, segment);
  const t = median(await threads(floats, rounds, warmup, segment));
  const p = median(await processes(floats, rounds, warmup, segment));
  const ring = median(base.ring),
    add = median(base.add);
  const gbps = (ms: number) => +(bytes / (ms / 1000) / 1e9).toFixed(3);
  const bus = (ms: number) => +((gbps(ms) * 2 * (2 - 1)) / 2).toFixed(3);
  const out = {
    bytes,
    floats,
    rounds,
    warmup,
    segment_bytes: segment ?? 'default',
    load_avg_1m: +load.toFixed(2),
    threads_ms: +t.toFixed(1),
    threads_algbw_gb_s: gbps(t),
    threads_busbw_gb_s: bus(t),
    processes_ms: +p.toFixed(1),
    processes_algbw_gb_s: gbps(p),
    processes_busbw_gb_s: bus(p),
    memory_ring_ms: +ring.toFixed(1),
    plain_add_ms: +add.toFixed(1),
    threads_vs_memory_ring: +(t / ring).toFixed(2),
    processes_vs_threads: +(p / t).toFixed(2),
  };
  console.error(
    `all-reduce of ${(bytes / 1e6).toFixed(1)} MB, 2 ranks: threads ${out.threads_ms} ms (${out.threads_algbw_gb_s} GB/s), processes ${out.processes_ms} ms (${out.processes_algbw_gb_s} GB/s); in-thread ring ${out.memory_ring_ms} ms, plain add ${out.plain_add_ms} ms`,
  );
  return out;
}
