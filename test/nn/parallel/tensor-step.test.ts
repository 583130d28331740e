// Tensor parallelism trains exactly as one device does: over 20 AdamW steps with clipping, the losses
// of TP 2 (two worker threads) and TP 4 (all ranks in one thread) equal, within 1e-6 relative at every
// step, those of the existing Gpt + trainStep on the same batches. Dropout is 0 throughout (tensor
// parallelism rejects it). TP x DP: tensor-dp.test.ts; processes over TCP: tensor-process.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { memoryGroup } from '../../../src/runtime/collectives/memory-transport.ts';
import { rankRun, referenceRun, STEPS, type RunResult } from './fixtures/tensor-run.ts';
import { deviation, threadGrid } from './fixtures/tensor-threads.ts';

beforeAll(async () => {
  await initBackend({ announce: false, headThread: false });
});

describe('tensor-parallel training equals the single-device run', () => {
  let ref: RunResult | undefined;
  const reference = () => (ref ??= referenceRun(1));

  it('the reference run learns (the comparison is of a changing loss, with clipping active)', () => {
    const r = reference();
    expect(r.losses[STEPS - 1]!).toBeLessThan(r.losses[0]! - 0.5);
    expect(r.gradNorms.some((n) => n > 1)).toBe(true);
  });

  it('TP 2 on two worker threads: the same losses at every one of 20 steps', async () => {
    for (const run of await threadGrid(2, 1)) {
      const d = deviation(run, reference());
      expect(d.steps).toBe(STEPS);
      expect(d.loss).toBeLessThan(1e-6);
      expect(d.norm).toBeLessThan(1e-5);
    }
  });

  it('TP 4, all ranks in one thread (memory transport): the same losses', async () => {
    for (const run of await Promise.all(memoryGroup(4).map((c) => rankRun({ tp: c }, 0)))) {
      const d = deviation(run, reference());
      expect(d.steps).toBe(STEPS);
      expect(d.loss).toBeLessThan(1e-6);
      expect(d.norm).toBeLessThan(1e-5);
    }
  });
});
