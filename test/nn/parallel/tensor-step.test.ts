// Tensor parallelism trains exactly as one device does: over 20 AdamW steps with clipping, the losses
// of TP 2 (two worker threads) and of TP 2 x DP 2 (four threads, each DP rank one micro-batch) equal,
// within 1e-6 relative at every step, those of the existing Gpt + trainStep on the same batches (with
// two accumulated micro-batches for DP 2). Dropout is 0 throughout (tensor parallelism rejects it).
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { createGridThreadGroups } from '../../../src/nn/parallel/tensor-grid.ts';
import { memoryGroup } from '../../../src/runtime/collectives/memory-transport.ts';
import { tsWorker } from '../../../src/runtime/thread-boot.ts';
import { rankRun, referenceRun, STEPS, type RunResult } from './fixtures/tensor-run.ts';
import type { TensorThreadReply } from './fixtures/tensor-thread-rank.ts';

const ENTRY = new URL('./fixtures/tensor-thread-rank.ts', import.meta.url).href;

beforeAll(async () => {
  await initBackend({ announce: false, headThread: false });
});

async function threadGrid(tp: number, dp: number): Promise<TensorThreadReply[]> {
  const grid = createGridThreadGroups(tp, dp);
  return Promise.all(
    grid.handles.map(
      (h) =>
        new Promise<TensorThreadReply>((resolve, reject) => {
          const w = tsWorker(ENTRY, { workerData: h });
          grid.watch(w, h.rank);
          w.once('message', (m: TensorThreadReply) => resolve(m));
          w.once('error', reject);
          w.once('exit', (code) => resolve({ kind: 'failed', message: `rank ${h.rank} exited with code ${code}` }));
        }),
    ),
  );
}

function expectSameRun(got: TensorThreadReply | RunResult, ref: RunResult): void {
  if ('kind' in got && got.kind === 'failed') throw new Error(got.message);
  const run = got as RunResult;
  expect(run.losses).toHaveLength(STEPS);
  for (let s = 0; s < STEPS; s++) {
    expect(Math.abs(run.losses[s]! - ref.losses[s]!) / ref.losses[s]!, `loss at step ${s}`).toBeLessThan(1e-6);
    expect(Math.abs(run.gradNorms[s]! - ref.gradNorms[s]!) / ref.gradNorms[s]!, `norm at step ${s}`).toBeLessThan(1e-5);
  }
}

describe('tensor-parallel training equals the single-device run', () => {
  const one = () => referenceRun(1);
  let ref1: RunResult | undefined;

  it('the reference run learns (the comparison is of a changing loss, with clipping active)', () => {
    ref1 = one();
    expect(ref1.losses[STEPS - 1]!).toBeLessThan(ref1.losses[0]! - 0.5);
    expect(ref1.gradNorms.some((n) => n > 1)).toBe(true);
  });

  it('TP 2 on two worker threads: the same losses at every one of 20 steps', async () => {
    ref1 ??= one();
    const replies = await threadGrid(2, 1);
    for (const r of replies) expectSameRun(r, ref1);
  });

  it('TP 4, all ranks in one thread (memory transport): the same losses', async () => {
    ref1 ??= one();
    const runs = await Promise.all(memoryGroup(4).map((c) => rankRun({ tp: c }, 0)));
    for (const r of runs) expectSameRun(r, ref1);
  });

  it('TP 2 x DP 2 on four worker threads: the single-device run with 2 accumulated micro-batches', async () => {
    const ref2 = referenceRun(2);
    const replies = await threadGrid(2, 2);
    for (const r of replies) expectSameRun(r, ref2);
  });
});
