// Data-parallel training in one thread (issue 6): two ranks, each a `train()` call with its own model,
// joined by memoryGroup(2) (the ring algorithm over in-memory links). World size 2 with one micro-batch
// per rank must give the losses of world size 1 with 2 accumulation steps (same rows, mean of means),
// with and without ZeRO-1, every rank ending with the same parameters; and a checkpoint taken at one
// world size must continue at the other as the uninterrupted run does. Dropout is on: masks derive
// from (seed, step, micro-batch), so they match whichever rank computes a micro-batch.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mobyDickChapters } from '../../operators/ingest/embedded-corpus.ts';
import { memoryGroup } from '../../src/runtime/collectives/memory-transport.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { loadCheckpoint } from '../../src/nn/checkpoint/index.ts';
import type { Dist } from '../../src/nn/train/dist.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import { trainConfig, type TrainConfigInput } from '../../src/nn/train/train-config.ts';
import type { TrainData, TrainHooks, TrainResult } from '../../src/nn/train/trainer.ts';
import { train } from './reference-trainer.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-ddp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SEQ = 16;
const BATCH = 4;
const STEPS = 20;
const VOCAB = 4096;
const ids = getEncoding('gpt2').encode(readFileSync(join(dirname(mobyDickChapters()), 'chapter_1.txt'), 'utf8'));
const rows = Math.floor((ids.length - 1) / SEQ) - 8; // the last 8 rows are validation
// GPT-2 ids folded into a 4096-token vocabulary: real text statistics, a small (fast) output head
const rowAt = (r: number) => ids.slice(r * SEQ, r * SEQ + SEQ + 1).map((t) => t % VOCAB);
const batchOf = (rs: number[]): PackedBatch => ({
  inputIds: Int32Array.from(rs.flatMap(rowAt)),
  batch: rs.length,
  seqLen: SEQ,
});

/** The global order is rows 0, 1, 2... cycled; a global step takes worldSize * accum * BATCH of them and
 * rank r its micro-batches [r * accum, (r + 1) * accum); the cursor is the next global row. */
const dataFor = (rank: number, worldSize: number, accum: number): TrainData => ({
  async *train(cursor) {
    let next = typeof cursor === 'number' ? cursor : 0;
    for (;;) {
      const group = worldSize * accum * BATCH;
      const mine = Array.from({ length: accum }, (_, k) =>
        batchOf(Array.from({ length: BATCH }, (_, i) => (next + (rank * accum + k) * BATCH + i) % rows)),
      );
      next = (next + group) % rows;
      for (const b of mine) yield { batch: b, cursor: next };
    }
  },
  async *val() {
    yield batchOf([rows, rows + 1, rows + 2, rows + 3]);
    yield batchOf([rows + 4, rows + 5, rows + 6, rows + 7]);
  },
});

const cfg = (runDir: string, more: Partial<TrainConfigInput> = {}) =>
  trainConfig({
    runDir,
    model: { vocabSize: VOCAB, contextLength: SEQ, nLayer: 1, nHead: 2, dModel: 16, dropout: 0.1 },
    data: { train: 'unused' },
    batchSize: BATCH,
    gradAccum: 2,
    steps: STEPS,
    lr: { max: 1e-2, min: 1e-3, warmupSteps: 2 },
    evalEvery: 10,
    evalBatches: 2,
    checkpointEvery: 10,
    ...more,
  });

/** World size 1 with 2 accumulation steps, or world size 2 with 1, all ranks at once. */
async function run(
  worldSize: 1 | 2,
  runDir: string,
  more: Partial<TrainConfigInput> = {},
  hooks: TrainHooks = {},
): Promise<TrainResult[]> {
  const accum = 2 / worldSize;
  const c = cfg(runDir, { gradAccum: accum, ...more });
  if (worldSize === 1) return [await train(c, dataFor(0, 1, accum), hooks)];
  const group = memoryGroup(worldSize);
  const dists: Dist[] = group.map((collective, rank) => ({ rank, worldSize, collective }));
  // the signal (a stop request) reaches rank 0 only, as SIGINT reaches the main thread
  return Promise.all(
    dists.map((dist) =>
      train(c, dataFor(dist.rank, worldSize, accum), { ...(dist.rank === 0 ? hooks : { resume: hooks.resume }), dist }),
    ),
  );
}

const maxDiff = (a: readonly number[], b: readonly number[]) => {
  expect(a).toHaveLength(b.length);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
};
/** stops after step 10 (rank 0's hooks) */
const stopAt10 = (): TrainHooks => {
  const stop = new AbortController();
  return {
    signal: stop.signal,
    onStep: (p) => {
      if (p.step === 10) stop.abort();
    },
  };
};

let ref: TrainResult;
const diffs: Record<string, number> = {};
beforeAll(async () => {
  await initBackend({ announce: false });
  [ref] = (await run(1, join(tmp, 'ref'))) as [TrainResult];
  expect(ref.losses).toHaveLength(STEPS);
  expect(ref.losses[STEPS - 1]!).toBeLessThan(ref.losses[0]! - 0.3); // it learns
}, 120_000);
afterAll(() => {
  console.log(`ddp max loss diffs vs world size 1 with accumulation 2: ${JSON.stringify(diffs)}`);
});

describe('data-parallel train()', () => {
  for (const zero of [false, true]) {
    it(`world size 2 gives world size 1's losses with 2 accumulation steps${zero ? ', with ZeRO-1' : ''}; ranks end with equal parameters`, async () => {
      const dir = join(tmp, zero ? 'ddp-zero' : 'ddp');
      const [r0, r1] = (await run(2, dir, { zero })) as [TrainResult, TrainResult];
      diffs[zero ? 'ws2_zero' : 'ws2'] = maxDiff(r0.losses, ref.losses);
      expect(diffs[zero ? 'ws2_zero' : 'ws2']).toBeLessThan(1e-5);
      // every rank reports the global loss and tokens; parameters bit-identical across ranks
      expect(r1.losses).toEqual(r0.losses);
      expect(r0.tokens).toBe(ref.tokens);
      expect(r1.paramsSha256).toBe(r0.paramsSha256);
      // rank 0 alone evaluates and checkpoints; the checkpoint is unsharded and says how it was made
      expect(r0.val!.loss).toBeCloseTo(ref.val!.loss, 4);
      expect(r1.val).toBeUndefined();
      expect(r1.checkpoint).toBeUndefined();
      const ck = await loadCheckpoint(r0.checkpoint!);
      expect(ck.state.extra).toEqual({ worldSize: 2, zero, globalBatch: 2 * BATCH, metrics: [] }); // this loop passes no metric rows;
      expect(ck.state.configHash).toBe(ref.configHash);
      expect([...ck.optimizer.m.keys()]).toHaveLength(ck.params.size);
    }, 120_000);
  }

  it('a checkpoint made at world size 2 continues at world size 1 like the uninterrupted run', async () => {
    const dir = join(tmp, 'elastic-2-1');
    const first = await run(2, dir, {}, stopAt10());
    for (const r of first) expect(r).toMatchObject({ stopped: true, step: 10 }); // both ranks stop after the same step
    const [second] = (await run(1, dir, {}, { resume: true })) as [TrainResult];
    expect(second).toMatchObject({ ok: true, startStep: 10, step: STEPS });
    diffs.elastic_2_to_1 = maxDiff([...first[0]!.losses, ...second.losses], ref.losses);
    expect(diffs.elastic_2_to_1).toBeLessThan(1e-5);
  }, 120_000);

  it('a checkpoint made at world size 1 continues at world size 2 like the uninterrupted run', async () => {
    const dir = join(tmp, 'elastic-1-2');
    const [first] = (await run(1, dir, {}, stopAt10())) as [TrainResult];
    expect(first).toMatchObject({ stopped: true, step: 10 });
    const second = await run(2, dir, { zero: true }, { resume: true });
    for (const r of second) expect(r).toMatchObject({ ok: true, startStep: 10, step: STEPS });
    diffs.elastic_1_to_2 = maxDiff([...first.losses, ...second[0]!.losses], ref.losses);
    expect(diffs.elastic_1_to_2).toBeLessThan(1e-5);
    expect(second[1]!.paramsSha256).toBe(second[0]!.paramsSha256);
  }, 120_000);

  it('a rank that fails stops the others instead of leaving them waiting in a collective', async () => {
    const group = memoryGroup(2);
    const c = cfg(join(tmp, 'fail'), { gradAccum: 1 });
    const broken: TrainData = {
      async *train(cursor) {
        let n = 0;
        for await (const b of dataFor(1, 2, 1).train(cursor)) {
          if (++n === 4) throw new Error('disk gone at micro-batch 4');
          yield b;
        }
      },
    };
    const results = await Promise.allSettled([
      train(c, dataFor(0, 2, 1), { dist: { rank: 0, worldSize: 2, collective: group[0]! } }),
      train(c, broken, { dist: { rank: 1, worldSize: 2, collective: group[1]! } }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/disk gone/);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/rank 1|disk gone/);
  }, 60_000);

  it('refuses a resume that changes the global batch', async () => {
    await expect(run(2, join(tmp, 'ref'), { gradAccum: 2 }, { resume: true })).rejects.toThrow(
      /config hash .*global batch/,
    );
  }, 60_000);
});
