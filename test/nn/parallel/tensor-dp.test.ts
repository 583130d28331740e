// Tensor and data parallelism together: a 2 x 2 grid of worker threads (TP 2 x DP 2, each DP rank
// training on its own micro-batch, the DP groups averaging the shard gradients) gives, within 1e-6
// relative at every one of 20 AdamW steps with clipping, the losses of the single-device Gpt +
// trainStep accumulating the same two micro-batches per step. Dropout 0.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { referenceRun, STEPS } from './fixtures/tensor-run.ts';
import { deviation, threadGrid } from './fixtures/tensor-threads.ts';

beforeAll(async () => {
  await initBackend({ announce: false, headThread: false });
});

describe('TP x DP', () => {
  it('TP 2 x DP 2 on four worker threads: the single-device run with 2 accumulated micro-batches', async () => {
    const ref = referenceRun(2);
    const runs = await threadGrid(2, 2);
    expect(runs).toHaveLength(4);
    for (const run of runs) {
      const d = deviation(run, ref);
      expect(d.steps).toBe(STEPS);
      expect(d.loss).toBeLessThan(1e-6);
      expect(d.norm).toBeLessThan(1e-5);
    }
  });
});
