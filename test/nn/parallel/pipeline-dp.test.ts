// Pipeline and data parallelism together: 4 worker-thread ranks, 2 pipelines of 2 stages, each
// replica 4 micro-batches, one DP all-reduce per stage, against one device's trainStep with the 8
// micro-batches as accumulation steps: losses within 1e-6 relative over 20 steps (dropout 0).
import { beforeAll, describe, it } from 'vitest';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { expectLosses, referenceLosses, STEPS } from './fixtures/pipeline-expect.ts';
import { runThreadGrid } from './fixtures/pipeline-threads.ts';

describe('pipeline x data parallelism on worker threads', () => {
  beforeAll(async () => {
    await initBackend({ announce: false, headThread: false });
  });

  it("PP=2 x DP=2 gives one device's losses with 8 accumulation steps", async () => {
    const got = await runThreadGrid({ stages: 2, dp: 2, steps: STEPS, micro: 4 });
    expectLosses(got, referenceLosses(8));
  });
});
