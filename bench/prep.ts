// Whole data preparation against tokenizing alone, on the embedded corpus (State of the Union +
// Moby-Dick, ~12 MB) and the same cores. In one process with one warmed worker pool, rounds alternate
// the prep pipeline (pipelines/prep-default.ts: read, dedup, normalise + tokenize on the workers, pack,
// write shards) and the tokenize operator alone, configured exactly as prep configures it (encoding,
// pre-tokenisation transforms, end-of-text token), on the same workers over the same documents (read and
// deduplicated beforehand, in memory): "tokenizing" is all the tokenize step does. Every round builds fresh tokenizer kernels (empty piece
// caches), as a new `flowlm prep` process has. ratio_vs_tokenize = prep MB/s over tokenize-only MB/s;
// the CPU time of each (all threads) shows what the rest costs when other processes share the cores
// (measured up to the run's end: deleting each round's output afterwards is not counted).
// Peak RSS: `flowlm prep --no-dedup` in a fresh child process on the corpus and on four copies of it
// (dedup off, or the copies would be dropped rather than prepared). Figures are medians; the paired ratio
// is the median of each round's own ratio.
// Args: rounds=9 warmup=8 rss_rounds=3 workers=<cores>
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RecordBatch, type Utf8 } from 'apache-arrow';
import { from, lastValueFrom, toArray } from 'rxjs';
import { z } from 'zod';
import { defineSource } from '../src/core/operator.ts';
import { makeContext } from '../src/core/context.ts';
import { runPipeline } from '../src/runtime/run.ts';
import { WorkerPool } from '../src/runtime/worker-pool.ts';
import { docSchema, type Doc } from '../src/schema/index.ts';
import { readText } from '../operators/ingest/read-text.ts';
import { exactDedup } from '../operators/dedup/exact.ts';
import { tokenize } from '../operators/tokenize/tokenize.ts';
import { mobyDickChapters, sotuTexts } from '../operators/ingest/embedded-corpus.ts';
import { prepSpec } from '../pipelines/prep-default.ts';
import { median } from './_median.ts';
import { splitThreads, threadDelta, threadTimes, type ThreadTimes } from './_thread-cpu.ts';

const BIN = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));
type Step = { id: string; op: unknown; workers?: number; config?: Record<string, unknown> };

const arg = (args: string[], name: string, dflt: number) => {
  const a = args.find((x) => x.startsWith(`${name}=`));
  const v = a ? Number(a.slice(name.length + 1)) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench prep: ${name} must be a positive integer, got ${a}`);
  return v;
};
const round2 = (x: number) => Math.round(x * 100) / 100;
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** The documents prep's tokenizer receives: the corpus read and deduplicated as prep does (text in
 * shared memory, as a run with worker stages reads it). */
async function prepInput(steps: Step[]): Promise<RecordBatch<Doc>[]> {
  const read = steps.find((s) => s.id === 'read')!.config!;
  const ctx = makeContext('read', { threaded: true });
  const source = from(readText.def.make(readText.def.config.parse(read), ctx)).pipe(exactDedup({}));
  return lastValueFrom(source.pipe(toArray())) as Promise<RecordBatch<Doc>[]>;
}

/** Peak RSS (MiB) and duration of `flowlm prep --json` over `inputs` in a fresh process. */
async function cliRun(inputs: string, out: string, workers: number): Promise<{ rss: number; ms: number; mb: number }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      BIN,
      'prep',
      '--input',
      inputs,
      '--out',
      out,
      '--no-dedup',
      '--workers',
      String(workers),
      '--json',
      '--progress',
      'none',
    ],
    { maxBuffer: 1 << 24 },
  );
  const j = JSON.parse(stdout.trim().split('\n').pop()!) as {
    ok: boolean;
    peakRssMb: number;
    durationMs: number;
    mb: number;
  };
  if (!j.ok) throw new Error(`bench prep: flowlm prep over ${inputs} failed: ${stdout}`);
  return { rss: j.peakRssMb, ms: j.durationMs, mb: j.mb };
}

export default async function prepBench(args: string[]): Promise<Record<string, unknown>> {
  const rounds = arg(args, 'rounds', 9);
  const rssRounds = arg(args, 'rss_rounds', 3);
  const warmup = arg(args, 'warmup', 8);
  const workers = arg(args, 'workers', availableParallelism());
  const tmp = mkdtempSync(join(tmpdir(), 'flowlm-bench-prep-'));
  const pool = new WorkerPool({ size: workers });
  try {
    // every run gets new tokenizer kernels: a kernel (and its piece cache) lives per config in each thread
    let kernel = 1 << 16;
    const specOf = (out: string) => {
      const spec = prepSpec({ out, workers }) as { steps: Step[] };
      return {
        ...spec,
        steps: spec.steps.map((s) =>
          s.id === 'tokenize' ? { ...s, config: { ...s.config, cacheEntries: kernel++ } } : s,
        ),
      };
    };
    const batches = await prepInput(specOf(tmp).steps);
    // the tokenizer exactly as prep configures it: encoding, its pre-tokenisation transforms (NFC,
    // control characters, whitespace) and <|endoftext|> after each document
    const tokenizeConfig = specOf(tmp).steps.find((s) => s.id === 'tokenize')!.config!;
    const mb = batches.reduce((n, b) => n + (b.getChild('text')!.data[0]!.values as Uint8Array).byteLength, 0) / 1e6;
    const memory = defineSource({
      id: 'bench/prep-input',
      description: 'the read, deduplicated corpus in memory',
      config: z.object({}),
      output: docSchema,
      async *make() {
        for (const b of batches) yield new RecordBatch(b.schema, b.data) as RecordBatch<Doc>;
      },
    });
    const encoding = String(tokenizeConfig.encoding);
    console.log(
      `corpus: ${batches.reduce((n, b) => n + b.numRows, 0)} documents, ${mb.toFixed(2)} MB of text in ${batches.length} batches; ${workers} workers, ${encoding}`,
    );

    const tokenizeOnly = async () => {
      const th0 = threadTimes();
      const c0 = cpuMs();
      const r = await runPipeline(
        {
          name: 'tokenize-only',
          steps: [
            { id: 'text', op: memory, config: {} },
            { id: 'tokenize', op: tokenize, workers, config: { ...tokenizeConfig, cacheEntries: kernel++ } },
          ],
        },
        { pool },
      );
      const cpu = cpuMs() - c0;
      const threads = threadDelta(th0, threadTimes());
      if (!r.ok) throw new Error(`bench prep: tokenize alone failed: ${r.error?.message}`);
      return { ms: r.durationMs, cpu, threads, tokens: r.nodes.tokenize?.counters?.tokens ?? 0 };
    };
    const prep = async (k: number) => {
      const out = join(tmp, `round-${k}`);
      const th0 = threadTimes();
      const c0 = cpuMs();
      const r = await runPipeline(specOf(out), { pool, log: () => undefined });
      const cpu = cpuMs() - c0; // the bench's own clean-up below is not prep's (unlinking ~10 MB: ~8 ms)
      const threads = threadDelta(th0, threadTimes());
      rmSync(out, { recursive: true, force: true });
      if (!r.ok) throw new Error(`bench prep: the prep pipeline failed: ${r.error?.message}`);
      return {
        ms: r.durationMs,
        cpu,
        threads,
        tokens: r.nodes.tokenize?.counters?.tokens ?? 0,
        busy: Object.fromEntries(Object.entries(r.nodes).map(([id, s]) => [id, s.busyMs])),
      };
    };

    // threads started, modules and rank tables loaded, the JIT done with the code both run: what is
    // timed is the steady state a long run sees (every round still starts with empty piece caches).
    // Prep's main-thread code runs once per batch, a few dozen times a round: after 3 rounds its
    // rounds still took 1.4x the later ones; after 5-6 they no longer get faster.
    for (let w = 0; w < warmup; w++) {
      await tokenizeOnly();
      await prep(-1 - w);
    }
    const t = { tok: [] as number[], prep: [] as number[], tokCpu: [] as number[], prepCpu: [] as number[] };
    const threadsOf = { tok: [] as ThreadTimes[], prep: [] as ThreadTimes[] };
    let tokens = 0;
    for (let r = 0; r < rounds; r++) {
      for (const which of r % 2 ? (['prep', 'tok'] as const) : (['tok', 'prep'] as const)) {
        if (which === 'tok') {
          const res = await tokenizeOnly();
          t.tok.push(res.ms);
          t.tokCpu.push(res.cpu);
          threadsOf.tok.push(res.threads);
          console.log(
            `round ${r + 1} tokenize alone: ${res.ms} ms (${((mb / res.ms) * 1000).toFixed(1)} MB/s), cpu ${res.cpu.toFixed(0)} ms`,
          );
        } else {
          const res = await prep(r);
          t.prep.push(res.ms);
          t.prepCpu.push(res.cpu);
          threadsOf.prep.push(res.threads);
          tokens = res.tokens;
          console.log(
            `round ${r + 1} prep: ${res.ms} ms (${((mb / res.ms) * 1000).toFixed(1)} MB/s), cpu ${res.cpu.toFixed(0)} ms; busy ${JSON.stringify(res.busy)}`,
          );
        }
      }
    }
    await pool.close();

    // peak RSS: fresh processes over 1 and 4 copies of the corpus (files copied under distinct names)
    const copies = [0, 1, 2, 3].map((k) => join(tmp, `copies/c${k}`));
    const corpusFiles = [sotuTexts(), mobyDickChapters()].flatMap((g) =>
      readdirSync(dirname(g))
        .filter((f) => new RegExp(`^${basename(g).replace('*', '.*')}$`).test(f))
        .map((f) => join(dirname(g), f)),
    );
    for (const dir of copies) {
      mkdirSync(dir, { recursive: true });
      for (const f of corpusFiles) copyFileSync(f, join(dir, `${basename(dirname(dirname(f)))}-${basename(f)}`));
    }
    const rss = { x1: [] as number[], x4: [] as number[], ms1: [] as number[], ms4: [] as number[], mb1: 0, mb4: 0 };
    for (let r = 0; r < rssRounds; r++) {
      const one = await cliRun(join(copies[0]!, '*.txt'), join(tmp, 'rss-1x'), workers);
      const four = await cliRun(join(tmp, 'copies/c*/*.txt'), join(tmp, 'rss-4x'), workers);
      rss.x1.push(one.rss);
      rss.x4.push(four.rss);
      rss.ms1.push(one.ms);
      rss.ms4.push(four.ms);
      rss.mb1 = one.mb;
      rss.mb4 = four.mb;
      console.log(
        `rss round ${r + 1}: 1x ${one.rss} MiB (${((one.mb / one.ms) * 1000).toFixed(1)} MB/s), 4x ${four.rss} MiB (${((four.mb / four.ms) * 1000).toFixed(1)} MB/s)`,
      );
    }

    // where each configuration's CPU went: the main thread, the pool's threads, V8's and libuv's helpers
    const splits = splitThreads([...threadsOf.tok, ...threadsOf.prep], workers);
    const splitMedian = (xs: typeof splits) =>
      xs.some((x) => x === null)
        ? null
        : Object.fromEntries(
            (['main', 'pool', 'helpers'] as const).map((k) => [k, Math.round(median(xs.map((x) => x![k])))]),
          );
    const prepMbs = (mb / median(t.prep)) * 1000;
    const tokMbs = (mb / median(t.tok)) * 1000;
    const result = {
      bench: 'prep',
      encoding,
      workers,
      rounds,
      rss_rounds: rssRounds,
      mb: round2(mb),
      tokens,
      mb_per_s: round2(prepMbs),
      tokens_per_s: Math.round((tokens / median(t.prep)) * 1000),
      tokenize_only_mb_per_s: round2(tokMbs),
      ratio_vs_tokenize: round2(prepMbs / tokMbs),
      /** the median of each round's own ratio (its tokenize-only and prep runs are adjacent): the host's
       * speed drifting from round to round (other tenants) moves it less than the ratio of the medians */
      ratio_vs_tokenize_paired: round2(median(t.prep.map((ms, r) => t.tok[r]! / ms))),
      cpu_ms_prep: Math.round(median(t.prepCpu)),
      cpu_ms_tokenize_only: Math.round(median(t.tokCpu)),
      ratio_vs_tokenize_cpu: round2(median(t.tokCpu) / median(t.prepCpu)),
      /** per-round CPU ms by thread (Linux): main thread, the pool's threads, the rest (V8 GC and compiler
       * helpers, libuv file threads); medians */
      cpu_split_ms_prep: splitMedian(splits.slice(threadsOf.tok.length)),
      cpu_split_ms_tokenize_only: splitMedian(splits.slice(0, threadsOf.tok.length)),
      peak_rss_mb_1x: median(rss.x1),
      peak_rss_mb_4x: median(rss.x4),
      rss_ratio_4x: round2(median(rss.x4) / median(rss.x1)),
      cli_mb_per_s_1x: round2((rss.mb1 / median(rss.ms1)) * 1000),
      cli_mb_per_s_4x: round2((rss.mb4 / median(rss.ms4)) * 1000),
      cores: availableParallelism(),
      load_1m: round2(loadavg()[0]!),
    };
    console.log(
      `prep ${result.mb_per_s} MB/s = ${result.ratio_vs_tokenize} x tokenize alone (${result.tokenize_only_mb_per_s} MB/s; CPU ratio ${result.ratio_vs_tokenize_cpu}); ` +
        `peak RSS ${result.peak_rss_mb_1x} MiB (1x), ${result.peak_rss_mb_4x} MiB (4x)`,
    );
    return result;
  } finally {
    await pool.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
