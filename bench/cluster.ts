// Clustered prep (flowlm prep --cluster + flowlm worker, NATS JetStream) against single-process
// `flowlm prep` on the same input and the same 2 cores, all against a nats-server -js the bench starts
// on a free port with a temp store (stopped and removed at the end).
// Input (bench/_cluster-input.ts): the embedded corpus (State of the Union + Moby-Dick chapters, ~12 MB,
// 368 files), linux-doc-6.1's reStructuredText sources (~24 MB, 3,183 files) and the SpamAssassin mail
// corpus (~33 MB, 6,046 files): ~69 MB of real text in 9,597 files, grouped by the coordinator into work
// items of --item-bytes (default 4 MiB, the input's last 4 MiB in items of 1 MiB: 20 items).
// Configurations, each a fresh set of processes, rounds alternating their order:
//   single     flowlm prep (default threads: every core)
//   cluster-1  coordinator + 1 worker process running 2 items at once on its 2 tokenizer threads (a
//              worker process's threads, prep --workers, are shared by the items it runs)
//   cluster-2  coordinator + 2 worker processes, 1 item at a time each, tokenizing on its main thread
//              (prep --workers 0: one process per core; with a tokenizer thread each, threads2=1, every
//              batch crosses to the thread and back: 0.72x of single against 0.75x, 3 rounds each, one day)
//   warm-1/2   the same shapes with the workers started before the job, idle, never having run a job:
//              timed from the coordinator's start
//   served-2   cluster-2's shape with workers that first served another job, untimed (the PostgreSQL
//              manual's HTML pages, bench/_cluster-input.ts servedInput): as long-running workers serving
//              every job are, their code compiled and their tokenizer caches filled from other text
// so each configuration tokenizes on 2 threads at once (shape changeable: slots1=, slots2=, threads1=,
// threads2=; with threads=0 items tokenize on each worker process's main thread; warm=0 drops warm-1/2,
// served=0 drops served-2).
// Time: wall clock from the first spawn (warm: the coordinator's) to the coordinator's exit (start-up and
// merge included); MB = the single run's input text. Every run's manifest and shards (every file outside .items/) are hashed
// and compared with the first single run's.
// Messages/s: measured apart (bench/_cluster-messages.ts): 10,000 work-item messages published with
// message ids and consumed + acked, and the worker's per-item loop (next, done record, ackAck).
// files=N: the same documents in N JSON Lines files instead; extra=0: the embedded corpus alone;
// item_bytes=N: prep --item-bytes (0: its default); near=J: prep --near-dup J everywhere.
// copies=K: the input K times over (bench/_cluster-input.ts), a job K times as large.
// Args: rounds=3 msgs=10000 loop_msgs=1000 slots1=2 slots2=1 threads1=2 threads2=0 files=0 extra=1 copies=1
// item_bytes=0 warm=1 served=1 near=(none)
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchInput, servedInput } from './_cluster-input.ts';
import { startBenchNats } from './_cluster-nats.ts';
import { measureMessages } from './_cluster-messages.ts';
import { clustered, hashTree, single, type ClusterShape, type Timed } from './_cluster-runs.ts';
import { intArg } from './_args.ts';
import { median } from './_median.ts';

const arg = (args: string[], name: string, dflt: number, min = 1) => intArg('cluster', args, name, dflt, min);
const r2 = (x: number) => Math.round(x * 100) / 100;

type Config = 'single' | 'cluster-1' | 'cluster-2' | 'warm-1' | 'warm-2' | 'served-2';
type Shaped = 'cluster-1' | 'cluster-2';
const shapeOf = (c: Exclude<Config, 'single'>): Shaped =>
  c === 'warm-1' ? 'cluster-1' : c === 'warm-2' || c === 'served-2' ? 'cluster-2' : c;

export default async function clusterBench(args: string[]): Promise<Record<string, unknown>> {
  const rounds = arg(args, 'rounds', 3);
  const msgs = arg(args, 'msgs', 10_000);
  const loopMsgs = arg(args, 'loop_msgs', 1000);
  const nFiles = arg(args, 'files', 0, 0);
  const extra = arg(args, 'extra', 1, 0) > 0;
  const itemBytes = arg(args, 'item_bytes', 0, 0);
  const warm = arg(args, 'warm', 1, 0) > 0;
  const served = arg(args, 'served', 1, 0) > 0 ? servedInput() : undefined;
  const shapes: Record<Shaped, ClusterShape> = {
    'cluster-1': { processes: 1, slots: arg(args, 'slots1', 2), threads: arg(args, 'threads1', 2, 0), itemBytes },
    'cluster-2': { processes: 2, slots: arg(args, 'slots2', 1), threads: arg(args, 'threads2', 0, 0), itemBytes },
  };
  const tmp = mkdtempSync(join(tmpdir(), 'flowlm-bench-cluster-'));
  const base = await benchInput(join(tmp, 'input'), nFiles, extra, arg(args, 'copies', 1));
  // near=J: every configuration also drops near duplicates (prep --near-dup J; in a cluster the items compute
  // the signatures, the merge runs the LSH index)
  const nearArg = args.find((a) => a.startsWith('near='));
  const near = nearArg ? Number(nearArg.slice(5)) : undefined;
  if (near !== undefined && !(near > 0 && near < 1))
    throw new Error(`bench cluster: near must be in (0, 1), got ${nearArg}`);
  const input = near === undefined ? base : { ...base, flags: [...base.flags, '--near-dup', String(near)] };
  const nats = await startBenchNats();
  const load0 = loadavg()[0]!;
  try {
    console.log(
      `input: ${input.label}; nats-server -js at ${nats.url}; shapes ${JSON.stringify(shapes)}; load ${load0.toFixed(2)}`,
    );
    const times: Record<Config, Timed[]> = {
      single: [],
      'cluster-1': [],
      'cluster-2': [],
      'warm-1': [],
      'warm-2': [],
      'served-2': [],
    };
    let reference: Record<string, string> | null = null;
    let identical = true;
    let mb = 0;
    let files = 0;
    const order: Config[] = [
      'single',
      'cluster-1',
      'cluster-2',
      ...(warm ? (['warm-1', 'warm-2'] as const) : []),
      ...(served ? (['served-2'] as const) : []),
    ];
    for (let r = 0; r < rounds; r++) {
      // rotate the order so no configuration always runs first (after the machine idled) or last
      const turn = order.map((_, k) => order[(k + r) % order.length]!);
      for (const cfg of turn) {
        const out = join(tmp, `${cfg}-${r}`);
        const res =
          cfg === 'single'
            ? await single(out, input.flags)
            : await clustered(
                nats.url,
                `bench-${cfg}-${r}`,
                out,
                shapes[shapeOf(cfg)],
                input.flags,
                cfg.startsWith('warm'),
                cfg === 'served-2' ? served : undefined,
              );
        if (cfg === 'single') mb ||= Number(res.summary.mb);
        const hashes = hashTree(out);
        reference ??= cfg === 'single' ? hashes : null;
        const same = reference !== null && JSON.stringify(hashes) === JSON.stringify(reference);
        if (reference !== null && !same) {
          identical = false;
          console.log(`round ${r + 1} ${cfg}: output differs from single: ${JSON.stringify(hashes)}`);
        }
        files = Object.keys(hashes).length;
        rmSync(out, { recursive: true, force: true });
        times[cfg].push(res);
        console.log(
          `round ${r + 1} ${cfg}: wall ${Math.round(res.wallMs)} ms, in-process ${res.durationMs} ms` +
            (cfg === 'single'
              ? ''
              : `, ${res.summary.items} items, phases ${JSON.stringify(res.summary.phasesMs)}, workers ${JSON.stringify(res.summary.workers)}`) +
            `; load ${loadavg()[0]!.toFixed(2)}`,
        );
      }
    }
    const wall = (c: Config) => median(times[c].map((t) => t.wallMs));
    const inner = (c: Config) => median(times[c].map((t) => t.durationMs));
    const mbs = (ms: number) => r2((mb / ms) * 1000);
    // the coordinator's phases (median of each): plan + publish, input items, dedup partitions, merge
    const phases = (c: Config) => {
      const ps = times[c].map((t) => t.summary.phasesMs as Record<string, number>);
      return Object.fromEntries(Object.keys(ps[0] ?? {}).map((k) => [k, median(ps.map((p) => p[k]!))]));
    };
    console.log(`messages: publishing ${msgs}, consuming + acking them, the worker loop over ${loopMsgs}`);
    const m = await measureMessages(nats.url, msgs, loopMsgs);
    const result = {
      bench: 'cluster',
      input: input.label,
      ...(near !== undefined ? { near_dup: near } : {}),
      mb: r2(mb),
      items: Number(times['cluster-2'][0]?.summary.items ?? 0),
      rounds,
      shapes,
      single_threads: availableParallelism(),
      single_mb_per_s: mbs(wall('single')),
      cluster_1_worker_mb_per_s: mbs(wall('cluster-1')),
      cluster_2_workers_mb_per_s: mbs(wall('cluster-2')),
      ratio_1_worker_vs_single: r2(wall('single') / wall('cluster-1')),
      ratio_2_workers_vs_single: r2(wall('single') / wall('cluster-2')),
      // inside the processes (start-up excluded; the cluster's includes waiting for workers to connect)
      in_process_ratio_1_worker_vs_single: r2(inner('single') / inner('cluster-1')),
      in_process_ratio_2_workers_vs_single: r2(inner('single') / inner('cluster-2')),
      single_wall_ms: Math.round(wall('single')),
      cluster_1_wall_ms: Math.round(wall('cluster-1')),
      cluster_2_wall_ms: Math.round(wall('cluster-2')),
      cluster_1_phases_ms: phases('cluster-1'),
      cluster_2_phases_ms: phases('cluster-2'),
      // workers already running (started before the job, serving every job): the coordinator's time
      ...(warm
        ? {
            warm_1_worker_mb_per_s: mbs(wall('warm-1')),
            warm_2_workers_mb_per_s: mbs(wall('warm-2')),
            ratio_warm_1_worker_vs_single: r2(wall('single') / wall('warm-1')),
            ratio_warm_2_workers_vs_single: r2(wall('single') / wall('warm-2')),
            warm_1_wall_ms: Math.round(wall('warm-1')),
            warm_2_wall_ms: Math.round(wall('warm-2')),
            warm_2_phases_ms: phases('warm-2'),
          }
        : {}),
      // the same, the workers having served another job first (the PostgreSQL manual): compiled code and
      // tokenizer caches as long-running workers have them
      ...(served
        ? {
            served_2_workers_mb_per_s: mbs(wall('served-2')),
            ratio_served_2_workers_vs_single: r2(wall('single') / wall('served-2')),
            served_2_wall_ms: Math.round(wall('served-2')),
          }
        : {}),
      byte_identical: identical && reference !== null,
      files_compared: files,
      messages: m,
      cores: availableParallelism(),
      load_1m_start: r2(load0),
      load_1m_end: r2(loadavg()[0]!),
    };
    console.log(
      `single ${result.single_mb_per_s} MB/s, 1 worker ${result.cluster_1_worker_mb_per_s} (x${result.ratio_1_worker_vs_single}), ` +
        `2 workers ${result.cluster_2_workers_mb_per_s} (x${result.ratio_2_workers_vs_single})` +
        (warm
          ? `; workers already running: 1 x${result.ratio_warm_1_worker_vs_single}, 2 x${result.ratio_warm_2_workers_vs_single}`
          : '') +
        (served ? `; after serving another job: 2 x${result.ratio_served_2_workers_vs_single}` : '') +
        `; byte-identical ${result.byte_identical}; ` +
        `publish ${m.publish_msgs_per_s} msg/s, consume+ack ${m.consume_ack_msgs_per_s} msg/s, worker loop ${m.worker_loop_items_per_s} items/s`,
    );
    return result;
  } finally {
    await nats.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
