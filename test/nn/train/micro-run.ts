// Shared by the low-precision trainer tests: the `micro` preset over real text (Moby-Dick's first
// chapter, GPT-2 ids folded into micro's 4096-token vocabulary), 16-token rows, and runs at world
// size 1 or 2 (memoryGroup: the ring algorithm over in-memory links, all ranks in this thread).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { getEncoding } from 'js-tiktoken';
import { mobyDickChapters } from '../../../operators/ingest/embedded-corpus.ts';
import { memoryGroup } from '../../../src/runtime/collectives/memory-transport.ts';
import type { PackedBatch } from '../../../src/nn/objective/loss.ts';
import { trainConfig, type TrainConfig, type TrainConfigInput } from '../../../src/nn/train/train-config.ts';
import type { TrainData, TrainHooks, TrainResult } from '../../../src/nn/train/trainer.ts';
import { train } from '../reference-trainer.ts';

export const SEQ = 16;
export const BATCH = 4;
const VOCAB = 4096;
const ids = getEncoding('gpt2').encode(readFileSync(join(dirname(mobyDickChapters()), 'chapter_1.txt'), 'utf8'));
const rows = Math.floor((ids.length - 1) / SEQ);
const rowAt = (r: number) => ids.slice(r * SEQ, r * SEQ + SEQ + 1).map((t) => t % VOCAB);
const batchOf = (rs: number[]): PackedBatch => ({
  inputIds: Int32Array.from(rs.flatMap(rowAt)),
  batch: rs.length,
  seqLen: SEQ,
});

/** Rank `rank`'s micro-batch of each global step of `worldSize` * BATCH rows; the cursor is the next row. */
export const dataFor = (rank: number, worldSize: number): TrainData => ({
  async *train(cursor) {
    let next = typeof cursor === 'number' ? cursor : 0;
    for (;;) {
      const mine = batchOf(Array.from({ length: BATCH }, (_, i) => (next + rank * BATCH + i) % rows));
      next = (next + worldSize * BATCH) % rows;
      yield { batch: mine, cursor: next };
    }
  },
});

export const microCfg = (runDir: string, more: Partial<TrainConfigInput> = {}): TrainConfig =>
  trainConfig({
    runDir,
    preset: 'micro',
    model: { contextLength: SEQ },
    data: { train: 'unused' },
    batchSize: BATCH,
    steps: 10,
    lr: { max: 1e-2, min: 1e-3, warmupSteps: 2 },
    evalEvery: 0,
    checkpointEvery: 0,
    ...more,
  });

/** Every rank of a run at world size `worldSize` (rank 0 gets `hooks`; all get its resume flag). */
export async function runRanks(worldSize: 1 | 2, cfg: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult[]> {
  if (worldSize === 1) return [await train(cfg, dataFor(0, 1), hooks)];
  const group = memoryGroup(worldSize);
  return Promise.all(
    group.map((collective, rank) =>
      train(cfg, dataFor(rank, worldSize), {
        ...(rank === 0 ? hooks : { resume: hooks.resume }),
        dist: { rank, worldSize, collective },
      }),
    ),
  );
}

/** Hooks that stop the run after step `n` (with a checkpoint). */
export function stopAfter(n: number): TrainHooks {
  const stop = new AbortController();
  return { signal: stop.signal, onStep: (p) => void (p.step === n && stop.abort()) };
}
