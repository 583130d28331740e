// Tensor parallelism (src/nn/parallel/tensor-step.ts) against one device on the `micro` preset
// (vocabulary 4096, context 128, 2 layers, d 64), batch 8 x 128, AdamW with clipping, dropout 0:
// the median time of an optimizer step on one thread (Gpt + trainStep) and with the model split over
// `tp` worker threads; for the TP run also the time a rank spends inside collectives, the bytes it
// all-reduces per step, and the parameters each rank holds. Both runs happen in this process, one
// after the other, on the same batches. Args: tp=2 rounds=5 (timed steps, after one warm-up step).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../src/nn/backend/backend.ts';
import { GPT_PRESETS } from '../src/nn/model/config.ts';
import { Gpt } from '../src/nn/model/gpt.ts';
import type { PackedBatch } from '../src/nn/objective/loss.ts';
import { AdamW } from '../src/nn/optim/adamw.ts';
import {
  createGridThreadGroups,
  gridThreadCollectives,
  type GridThreadHandles,
} from '../src/nn/parallel/tensor-grid.ts';
import { TensorShardModel } from '../src/nn/parallel/tensor-model.ts';
import { tensorParallelStep } from '../src/nn/parallel/tensor-step.ts';
import { trainStep } from '../src/nn/train/train-step.ts';
import type { Collective } from '../src/runtime/collectives/collective.ts';
import { Rng } from '../src/runtime/rng.ts';
import { tsWorker } from '../src/runtime/thread-boot.ts';

const CONFIG = { ...GPT_PRESETS.micro, dropout: 0 };
const BATCH = 8,
  SEQ = 128,
  LR = 1e-3,
  CLIP = 1;

interface RankData {
  tensorParallelBench: true;
  handles: GridThreadHandles;
  rounds: number;
}

interface RankReply {
  stepMs: number[];
  collectiveMs: number[];
  bytesPerStep: number;
  params: number;
}

function batchFor(step: number): PackedBatch {
  const rng = new Rng(100 + step);
  return {
    inputIds: Int32Array.from({ length: BATCH * (SEQ + 1) }, () => rng.below(CONFIG.vocabSize)),
    batch: BATCH,
    seqLen: SEQ,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** The collective, counting the time spent in it and the bytes all-reduced or gathered. */
function counted(c: Collective, s: { ms: number; bytes: number }): Collective {
  const timed =
    <A extends unknown[]>(fn: (...a: A) => Promise<void>, bytes: (...a: A) => number) =>
    async (...a: A) => {
      const t0 = performance.now();
      await fn(...a);
      s.ms += performance.now() - t0;
      s.bytes += bytes(...a);
    };
  return {
    rank: c.rank,
    worldSize: c.worldSize,
    allReduce: timed(
      (d: Float32Array, op?: 'sum' | 'mean') => c.allReduce(d, op),
      (d) => d.byteLength,
    ),
    reduceScatter: timed(
      (d: Float32Array, op?: 'sum' | 'mean') => c.reduceScatter(d, op),
      (d) => d.byteLength,
    ),
    allGather: timed(
      (d: Float32Array) => c.allGather(d),
      (d) => d.byteLength,
    ),
    broadcast: (d, root) => c.broadcast(d, root),
    barrier: () => c.barrier(),
    abort: (e) => c.abort(e),
    close: () => c.close(),
  };
}

async function rankMain(d: RankData): Promise<RankReply> {
  await initBackend({ announce: false, headThread: false });
  const { tp: raw, dp } = gridThreadCollectives(d.handles);
  const stats = { ms: 0, bytes: 0 };
  const tp = counted(raw, stats);
  const full = Gpt.create(CONFIG, { seed: 1 });
  const m = new TensorShardModel(CONFIG, full.getParams(), d.handles.tp, raw.rank);
  full.dispose();
  const opt = new AdamW(m.specs);
  const reply: RankReply = { stepMs: [], collectiveMs: [], bytesPerStep: 0, params: m.numParams() };
  for (let s = 0; s <= d.rounds; s++) {
    stats.ms = 0;
    stats.bytes = 0;
    await raw.barrier();
    const t0 = performance.now();
    await tensorParallelStep(m, opt, batchFor(s), { tp, lr: LR, clipNorm: CLIP });
    if (s === 0) continue; // warm-up
    reply.stepMs.push(performance.now() - t0);
    reply.collectiveMs.push(stats.ms);
    reply.bytesPerStep = stats.bytes;
  }
  m.dispose();
  await Promise.all([raw.close(), dp.close()]);
  return reply;
}

if (!isMainThread && (workerData as Partial<RankData> | null)?.tensorParallelBench)
  parentPort!.postMessage(await rankMain(workerData as RankData));

async function tensorRun(tp: number, rounds: number): Promise<RankReply[]> {
  const grid = createGridThreadGroups(tp, 1);
  return Promise.all(
    grid.handles.map(
      (handles) =>
        new Promise<RankReply>((resolve, reject) => {
          const w = tsWorker(import.meta.url, { workerData: { tensorParallelBench: true, handles, rounds } });
          grid.watch(w, handles.rank);
          w.once('message', resolve);
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`bench tensor-parallel: rank ${handles.rank} exited (${code})`)));
        }),
    ),
  );
}

export default async function bench(args: string[]): Promise<Record<string, unknown>> {
  const num = (name: string, dflt: number) =>
    Number(args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt);
  const tp = num('tp', 2);
  const rounds = Math.max(1, Math.round(num('rounds', 5)));
  if (![1, 2, 4].includes(tp)) throw new Error(`bench tensor-parallel: tp must be 1, 2 or 4 (nHead 4), got ${tp}`);
  const backend = await initBackend({ announce: false, headThread: false });
  const model = Gpt.create(CONFIG, { seed: 1 });
  const opt = new AdamW(model.specs);
  const single: number[] = [];
  for (let s = 0; s <= rounds; s++) {
    const t0 = performance.now();
    trainStep(model, opt, [batchFor(s)], { objective: { kind: 'autoregressive' }, lr: LR, clipNorm: CLIP });
    if (s > 0) single.push(performance.now() - t0);
  }
  const fullParams = model.numParams();
  model.dispose();
  const ranks = await tensorRun(tp, rounds);
  const r0 = ranks[0]!;
  const singleMs = Math.round(median(single));
  const tpMs = Math.round(median(r0.stepMs));
  const commMs = Math.round(median(r0.collectiveMs));
  console.log(`micro preset, batch ${BATCH} x ${SEQ}, backend ${backend.name}, ${rounds} timed steps (medians)`);
  console.log(`one thread:           ${singleMs} ms per step, ${fullParams} parameters`);
  console.log(
    `tp ${tp} worker threads:  ${tpMs} ms per step (${commMs} ms in collectives), ` +
      `${(r0.bytesPerStep / 2 ** 20).toFixed(2)} MiB all-reduced per rank per step, ${r0.params} parameters per rank`,
  );
  return {
    bench: 'tensor-parallel',
    backend: backend.name,
    tp,
    singleMs,
    tpMs,
    tpCollectiveMs: commMs,
    ratio: Math.round((tpMs / singleMs) * 100) / 100,
    bytesPerRankPerStep: r0.bytesPerStep,
    paramsFull: fullParams,
    paramsPerRank: ranks.map((r) => r.params),
  };
}
