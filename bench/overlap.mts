// Gradient all-reduce overlapping the backward pass (trainer overlapComm, issue 15 item 2) against the
// all-reduce after the whole backward: two processes on TCP loopback (socketCollective), the `tiny`
// preset (vocabulary 50257, context 128, 4 layers, d 128; 7.2M parameters, 29 MB of gradient) with its
// head tied (the embedding, 89% of the gradient, is final only at the end of the backward) and untied
// (lm_head, as big, is final after the head's piece), batch 8 x 128 of GPT-2 tokens of the embedded
// corpus, dropout 0, activationCheckpointing on in both modes (so the piecewise backward recomputes
// nothing extra). Each rank keeps one replica per mode, from the same initialisation; rounds
// alternate which mode goes first, each step starts after a barrier, and a step's time is the slower
// rank's. Per mode: the median step time (forward, backward, all-reduce, AdamW), and the median time a
// step waits for the all-reduce after its backward has ended (without overlap: all of allReduce; with
// it: from the end of the embeddings' piece to the last bucket and the loss exchange); with overlap,
// how many buckets were done before the backward ended. The losses of the two modes are checked equal
// bit for bit, step by step.
// Args: rounds=5 warmup=1 head=tied,untied drain_ms=DRAIN_MS (overlap-step.ts) segment_mb=1
// (the ring's message size: a bucket moves about one ring step per yield of the backward)
// This file is also the ranks' program: spawned with FLOWLM_OVERLAP_BENCH_RANK set, it runs one rank.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { rankArgs, say, twoTcpRanks, type RankLine } from './_tcp-ranks.ts';
import { getEncoding } from 'js-tiktoken';
import { mobyDickChapters } from '../operators/ingest/embedded-corpus.ts';
import { initBackend } from '../src/nn/backend/backend.ts';
import type { PackedBatch } from '../src/nn/objective/loss.ts';
import type { OverlapEvent } from '../src/nn/train/overlap-reduce.ts';
import { DRAIN_MS } from '../src/nn/train/overlap-step.ts';
import { TrainReplica, type StepGrads } from '../src/nn/train/replica.ts';
import { trainConfig } from '../src/nn/train/train-config.ts';
import { socketCollective } from '../src/runtime/collectives/socket-transport.ts';

const ENV = 'FLOWLM_OVERLAP_BENCH_RANK';
const BATCH = 8;
const SEQ = 128;
const MODES = ['off', 'on'] as const;
type Mode = (typeof MODES)[number];

interface RankArgs {
  rank: number;
  port: number;
  steps: number;
  dir: string;
  tied: boolean;
  drainMs: number;
  segmentMb: number;
}
interface Timing {
  stepMs: number;
  waitMs: number;
  loss: number;
  /** overlap: buckets all-reduced before the backward ended, of all buckets */
  early?: number;
  buckets?: number;
}
type Done = { t: Record<Mode, Timing[]> };
type Line = RankLine<Done>;

/** Rank `rank`'s rows of global step `s`: 8 rows of 129 GPT-2 tokens, cycling through the chapter. */
function batchesOf(rank: number): (s: number) => PackedBatch {
  const ids = getEncoding('gpt2').encode(readFileSync(join(dirname(mobyDickChapters()), 'chapter_1.txt'), 'utf8'));
  const rows = Math.floor((ids.length - 1) / SEQ);
  return (s) => ({
    inputIds: Int32Array.from(
      Array.from({ length: BATCH }, (_, i) => {
        const r = ((s * 2 + rank) * BATCH + i) % rows;
        return ids.slice(r * SEQ, r * SEQ + SEQ + 1);
      }).flat(),
    ),
    batch: BATCH,
    seqLen: SEQ,
  });
}

async function rankMain(a: RankArgs): Promise<void> {
  try {
    await initBackend({ announce: false });
    const c = await socketCollective({
      rank: a.rank,
      worldSize: 2,
      master: { host: '127.0.0.1', port: a.port },
      timeoutMs: 120_000,
      segmentBytes: a.segmentMb << 20,
      onListening: (addr) => say<Done>({ kind: 'listening', port: addr.port }),
    });
    const dist = { rank: a.rank, worldSize: 2, collective: c };
    const cfgOf = (mode: Mode) =>
      trainConfig({
        runDir: join(a.dir, `${mode}-${a.rank}`),
        preset: 'tiny',
        model: { dropout: 0, activationCheckpointing: true, tiedHead: a.tied },
        data: { train: 'unused' },
        batchSize: BATCH,
        steps: a.steps,
        evalEvery: 0,
        checkpointEvery: 0,
        overlapComm: mode === 'on',
      });
    const reps = {
      off: await TrainReplica.open(cfgOf('off'), { dist }),
      on: await TrainReplica.open(cfgOf('on'), { dist }),
    };
    const batchAt = batchesOf(a.rank);
    const t: Record<Mode, Timing[]> = { off: [], on: [] };
    for (let s = 0; s < a.steps; s++)
      for (const mode of s % 2 ? [...MODES].reverse() : MODES) {
        const rep = reps[mode];
        const micro = [batchAt(s)];
        await c.barrier();
        const t0 = performance.now();
        let g: StepGrads;
        let backwardEnd = 0;
        const ends: number[] = [];
        if (mode === 'off') {
          const local = rep.forwardBackward(micro);
          backwardEnd = performance.now();
          g = await rep.allReduce(local);
        } else {
          const trace = (e: OverlapEvent) => {
            if (e.kind === 'piece' && e.what === 'embeddings') backwardEnd = e.t;
            if (e.kind === 'reduce-end') ends.push(e.t);
          };
          g = await rep.forwardBackwardReduce(micro, { trace, drainMs: a.drainMs });
        }
        const reduced = performance.now();
        const r = await rep.optimizerStep(g, null);
        t[mode].push({
          stepMs: performance.now() - t0,
          waitMs: reduced - backwardEnd,
          loss: r.loss,
          ...(mode === 'on' ? { early: ends.filter((x) => x < backwardEnd).length, buckets: ends.length } : {}),
        });
      }
    for (const rep of Object.values(reps)) rep.dispose();
    await c.close();
    say<Done>({ kind: 'done', rank: a.rank, t });
  } catch (err) {
    say<Done>({ kind: 'failed', rank: a.rank, message: err instanceof Error ? err.message : String(err) });
    process.exitCode = 1;
  }
}

async function overTcp(
  steps: number,
  dir: string,
  tied: boolean,
  drainMs: number,
  segmentMb: number,
): Promise<Array<Extract<Line, { kind: 'done' }>>> {
  return twoTcpRanks<Done>('overlap', import.meta.url, ENV, (rank, port) => ({
    rank,
    port,
    steps,
    dir,
    tied,
    drainMs,
    segmentMb,
  }));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r1 = (x: number) => Math.round(x * 10) / 10;

export default async function overlapBench(args: string[]): Promise<Record<string, unknown>> {
  const num = (name: string, dflt: number, min: number) => {
    const v = Number(args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt);
    if (!Number.isInteger(v) || v < min) throw new Error(`bench overlap: ${name} must be an integer >= ${min}`);
    return v;
  };
  const rounds = num('rounds', 5, 1);
  const warmup = num('warmup', 1, 0);
  const drainMs = num('drain_ms', DRAIN_MS, 0);
  // the ring's message size (socketCollective's segmentBytes; 1 MiB is its default)
  const segmentMb = num('segment_mb', 1, 1);
  const heads = (args.find((x) => x.startsWith('head='))?.slice(5) ?? 'tied,untied').split(',');
  if (heads.some((h) => h !== 'tied' && h !== 'untied'))
    throw new Error(`bench overlap: head must be tied, untied or tied,untied, got ${heads.join(',')}`);
  const dir = mkdtempSync(join(tmpdir(), 'flowlm-bench-overlap-'));
  try {
    const out: Record<string, unknown> = {
      preset: 'tiny',
      batch: `${BATCH}x${SEQ}`,
      ranks: 2,
      transport: 'tcp',
      rounds,
    };
    for (const head of heads) {
      const [d0, d1] = await overTcp(rounds + warmup, join(dir, head), head === 'tied', drainMs, segmentMb);
      const fig: Record<string, unknown> = {};
      for (const mode of MODES) {
        const a = d0!.t[mode].slice(warmup);
        const b = d1!.t[mode].slice(warmup);
        fig[`${mode}_step_ms`] = r1(median(a.map((x, i) => Math.max(x.stepMs, b[i]!.stepMs))));
        fig[`${mode}_wait_after_backward_ms`] = r1(median([...a, ...b].map((x) => x.waitMs)));
      }
      fig.step_time_on_vs_off = Number(((fig.on_step_ms as number) / (fig.off_step_ms as number)).toFixed(3));
      fig.wait_on_vs_off = Number(
        ((fig.on_wait_after_backward_ms as number) / (fig.off_wait_after_backward_ms as number)).toFixed(3),
      );
      const on = [...d0!.t.on, ...d1!.t.on].slice(warmup);
      fig.on_buckets_done_before_backward_end = `${median(on.map((x) => x.early!))} of ${on[0]!.buckets}`;
      const lossesOf = (mode: Mode) => d0!.t[mode].map((x) => x.loss);
      fig.losses_equal = JSON.stringify(lossesOf('on')) === JSON.stringify(lossesOf('off'));
      out[head] = fig;
      console.log(`overlap bench, ${head} head: ${JSON.stringify(fig)}`);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mine = rankArgs<RankArgs>(ENV);
if (mine) await rankMain(mine);
