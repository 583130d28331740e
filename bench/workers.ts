// Worker pool scaling: a CPU-bound parallel operator (normalise + a deliberately slow multi-round hash,
// test/fixtures/heavy-hash.ts) over the sotu corpus, run through runPipeline inline, on 1 worker and
// on 2 workers, over the same in-memory batches. The pool is warmed (threads started, kernel loaded)
// before timing; rounds alternate the order of the configurations; figures are medians.
// Process CPU time per run is reported too: on a busy machine wall time measures the share of cores
// we got, while CPU time shows what the 2-worker run costs over the 1-worker run (ideally the same).
// The batches are read as a run with worker stages reads them (text in shared memory, which crosses to
// the workers without a copy); read outside a run, the main thread copied every batch's text into each
// task's message, work a real run does not do, and with 2 workers it took CPU from them.
// The host's own ceiling is measured right after in the same run: the same hash over the same texts in
// bare threads, one against two (bench/_raw-threads.ts); pool_efficiency is the pool's paired speedup
// over it. On this shared 2-vCPU host two busy threads rarely run as fast as one alone.
// Args: rounds=5 hash=48 rows=4 passes=1
import { availableParallelism, loadavg } from 'node:os';
import { Int32, RecordBatch } from 'apache-arrow';
import { from, lastValueFrom, toArray } from 'rxjs';
import { z } from 'zod';
import { makeContext } from '../src/core/context.ts';
import { defineOperator, defineSource } from '../src/core/operator.ts';
import { mapBatch } from '../src/core/map-batch.ts';
import { runPipeline } from '../src/runtime/run.ts';
import { WorkerPool } from '../src/runtime/worker-pool.ts';
import { schemaOf, docSchema, type Doc } from '../src/schema/index.ts';
import { readText } from '../operators/ingest/read-text.ts';
import { sotuTexts } from '../operators/ingest/embedded-corpus.ts';
import { heavyHash } from '../test/fixtures/heavy-hash.ts';
import { rawThreadSpeedup } from './_raw-threads.ts';
import { median } from './_median.ts';

const arg = (args: string[], name: string, dflt: number) => {
  const a = args.find((x) => x.startsWith(`${name}=`));
  const v = a ? Number(a.slice(name.length + 1)) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench workers: ${name} must be a positive integer, got ${a}`);
  return v;
};
const hashSchema = () => schemaOf<{ hash: Int32 }>({ hash: { type: new Int32() } });

export default async function workers(args: string[]): Promise<Record<string, unknown>> {
  const rounds = arg(args, 'rounds', 5);
  const hashRounds = arg(args, 'hash', 48);
  const rows = arg(args, 'rows', 4);
  const passes = arg(args, 'passes', 1);
  const read = readText.def.config.parse({ paths: [sotuTexts()], batchRows: rows });
  const corpus = await lastValueFrom(
    from(readText.def.make(read, makeContext('read', { threaded: true }))).pipe(toArray()),
  );
  const batches = Array.from({ length: passes }, () => corpus).flat();
  const mb = batches.reduce((n, b) => n + b.getChild('text')!.data[0]!.values.byteLength, 0) / 1e6;

  // a fresh wrapper per run (same buffers): credit tickets belong to one run's batch objects
  const memory = defineSource({
    id: 'bench/memory',
    description: 'the prepared batches',
    config: z.object({}),
    output: docSchema,
    async *make() {
      for (const b of batches) yield new RecordBatch(b.schema, b.data) as RecordBatch<Doc>;
    },
  });
  let digest = 0;
  let digestRows = 0;
  const check = defineOperator({
    id: 'bench/digest',
    description: 'xor of the hash column, to check every configuration computed the same',
    config: z.object({}),
    input: hashSchema,
    passthrough: true,
    output: hashSchema,
    make: (_cfg, ctx) =>
      mapBatch(
        (b) => {
          for (const h of b.getChild('hash')!) digest ^= h ?? 0;
          digestRows += b.numRows;
          return b;
        },
        { ctx },
      ),
  });
  const spec = (workers: number) => ({
    name: `workers-${workers}`,
    steps: [
      { id: 'src', op: memory, config: {} },
      { id: 'heavy', op: heavyHash, workers, config: { rounds: hashRounds } },
      { id: 'check', op: check, config: {} },
    ],
  });

  const pool = new WorkerPool({ size: 2 });
  const time = async (workers: number) => {
    digest = 0;
    digestRows = 0;
    const cpu0 = process.cpuUsage();
    const r = await runPipeline(spec(workers), { pool });
    const cpu = process.cpuUsage(cpu0);
    if (!r.ok) throw new Error(`bench workers: run with ${workers} workers failed: ${r.error?.message}`);
    return { ms: r.durationMs, cpuMs: Math.round((cpu.user + cpu.system) / 1000), digest, rows: digestRows };
  };
  try {
    const warm = await time(2); // starts both threads and loads the kernel in each
    const ms: Record<0 | 1 | 2, number[]> = { 0: [], 1: [], 2: [] };
    const cpu: Record<0 | 1 | 2, number[]> = { 0: [], 1: [], 2: [] };
    for (let i = 0; i < rounds; i++) {
      for (const w of (i % 2 ? [2, 1, 0] : [0, 1, 2]) as Array<0 | 1 | 2>) {
        const r = await time(w);
        if (r.digest !== warm.digest || r.rows !== warm.rows)
          throw new Error(`bench workers: ${w} workers computed a different result`);
        ms[w].push(r.ms);
        cpu[w].push(r.cpuMs);
        console.log(`round ${i + 1} workers=${w}: ${r.ms} ms (cpu ${r.cpuMs} ms)`);
      }
    }
    const [m0, m1, m2] = [median(ms[0]), median(ms[1]), median(ms[2])];
    // the host's own two-thread speedup on the same work, measured right after (bench/_raw-threads.ts)
    const texts = batches.flatMap((b) => [...b.getChild('text')!].filter((t): t is string => t !== null));
    const raw = await rawThreadSpeedup(texts, hashRounds, rounds);
    const result = {
      bench: 'workers',
      rounds,
      batches: batches.length,
      rows: warm.rows,
      mb: +mb.toFixed(2),
      hash_rounds: hashRounds,
      ms_inline: m0,
      ms_1: m1,
      ms_2: m2,
      speedup_2_vs_1: +(m1 / m2).toFixed(3),
      /** median of each round's own ratio: steadier when the machine's load drifts between rounds */
      speedup_2_vs_1_paired: +median(ms[1].map((t, i) => t / ms[2][i]!)).toFixed(3),
      /** what one worker costs over running inline (IPC, scheduling): 1.0 is free */
      overhead_1_vs_inline: +(m1 / m0).toFixed(3),
      cpu_ms_inline: median(cpu[0]),
      cpu_ms_1: median(cpu[1]),
      cpu_ms_2: median(cpu[2]),
      /** CPU time over wall time of the 2-worker runs: the cores we actually got (the speedup's ceiling) */
      cores_used_2: +median(cpu[2].map((c, i) => c / ms[2][i]!)).toFixed(2),
      /** bare threads, no pool, same hash over the same texts: what two vCPUs give here right now */
      raw_threads_speedup_2_vs_1: raw.speedup_2_vs_1,
      /** the pool's paired speedup over the bare threads' (1.0: the pool loses nothing to scheduling or IPC) */
      pool_efficiency: +(median(ms[1].map((t, i) => t / ms[2][i]!)) / raw.speedup_2_vs_1).toFixed(3),
      cores: availableParallelism(),
      load_1m: +loadavg()[0]!.toFixed(2),
    };
    console.log(
      `inline ${m0} ms, 1 worker ${m1} ms, 2 workers ${m2} ms: speedup 2 vs 1 = ${result.speedup_2_vs_1} (paired ${result.speedup_2_vs_1_paired}); bare threads ${raw.speedup_2_vs_1} (${mb.toFixed(1)} MB, ${batches.length} batches)`,
    );
    return result;
  } finally {
    await pool.close();
  }
}
