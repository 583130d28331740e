// Two pipeline stages on worker threads (SharedArrayBuffer transports) against one device's trainStep
// with the same 4 micro-batches as accumulation steps: 20 optimizer steps (AdamW, clipping on;
// dropout 0), losses within 1e-6 relative at every step, the same on both stages.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { expectLosses, referenceLosses, STEPS } from './fixtures/pipeline-expect.ts';
import { runThreadGrid } from './fixtures/pipeline-threads.ts';

describe('pipeline parallelism on worker threads', () => {
  beforeAll(async () => {
    await initBackend({ announce: false, headThread: false });
  });

  it("PP=2, M=4: 20 steps give one device's losses within 1e-6", async () => {
    const got = await runThreadGrid({ stages: 2, dp: 1, steps: STEPS, micro: 4 });
    expectLosses(got, referenceLosses(4));
    expect(got[0]!.kind === 'done' && got[0]!.results[0]!.bubble.theoretical).toBe(1 / 5);
  });
});
