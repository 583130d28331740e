// launchThreads with a stand-in pipeline (test/fixtures/rank-pipeline.ts) doing a trainer's collective
// traffic: results, forwarding and stop on the happy path; a rank that throws, exits or leaves peers
// hanging ends the launch within seconds with an error naming it, and no rank thread survives.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CollectiveError } from '../../src/runtime/collectives/index.ts';
import type { StepProgress } from '../../src/nn/train/trainer.ts';
import { launchThreads } from '../../src/scheduler/launch-threads.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/rank-pipeline.ts', import.meta.url));

async function failure(p: Promise<unknown>): Promise<{ err: CollectiveError; ms: number }> {
  const t0 = performance.now();
  const err = await p.then(
    () => {
      throw new Error('the launch succeeded; it should have failed');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CollectiveError);
  return { err: err as CollectiveError, ms: performance.now() - t0 };
}

describe('launchThreads', () => {
  it("runs every rank, returns rank 0's result and forwards only rank 0's log lines and steps", async () => {
    const logs: string[] = [];
    const steps: StepProgress[] = [];
    const r = await launchThreads({
      file: FIXTURE,
      worldSize: 3,
      sets: ['steps=4'],
      resume: false,
      hooks: { log: (l) => logs.push(l), onStep: (p) => steps.push(p) },
    });
    // each step all-reduces rank + 1 over ranks 0..2: 1 + 2 + 3, and the step number times 3
    expect(r.losses).toEqual([6, 6, 6, 6]);
    expect(steps.map((p) => [p.step, p.gradNorm])).toEqual([
      [1, 3],
      [2, 6],
      [3, 9],
      [4, 12],
    ]);
    expect(r.extra).toEqual({ rank: 0, headThread: '0' }); // rank threads never start the head helper
    expect(logs).toEqual(['rank 0 of 3 starting; FLOWLM_HEAD_THREAD=0']);
  });

  it('a rank that throws: rejects within seconds naming the rank and its cause', async () => {
    const { err, ms } = await failure(
      launchThreads({ file: FIXTURE, worldSize: 2, sets: ['steps=5', 'fail=1', 'failAt=3'], resume: false }),
    );
    expect(err.failedRank).toBe(1);
    expect(err.message).toMatch(/rank 1 of 2 failed.*deliberate failure at step 3/);
    expect(ms).toBeLessThan(10_000);
  });

  it('a rank whose thread exits: rejects naming the rank and its exit code', async () => {
    const { err } = await failure(
      launchThreads({ file: FIXTURE, worldSize: 2, sets: ['steps=5', 'exit=0', 'failAt=2'], resume: false }),
    );
    expect(err.failedRank).toBe(0);
    expect(err.message).toMatch(/rank 0 of 2 failed.*exited with code 3 before the pipeline finished/);
  });

  it('peers that do not end by themselves are terminated after the grace period', async () => {
    const beats: number[] = [];
    const channel = new BroadcastChannel('rank-pipeline-heartbeat');
    channel.onmessage = (e: MessageEvent) => {
      beats.push(performance.now());
      void e;
    };
    try {
      const { err, ms } = await failure(
        launchThreads({
          file: FIXTURE,
          worldSize: 3,
          sets: ['steps=5', 'fail=2', 'hang=1'],
          resume: false,
          graceMs: 500,
        }),
      );
      expect(err.failedRank).toBe(2);
      expect(ms).toBeLessThan(10_000);
      expect(beats.length).toBeGreaterThan(0); // the hanging ranks were alive during the grace
      const after = performance.now();
      await new Promise((r) => setTimeout(r, 300));
      expect(beats.filter((t) => t > after)).toEqual([]); // and are gone once the launch rejected
    } finally {
      channel.close();
    }
  });

  it('a stop request reaches every rank; they stop after the same step', async () => {
    const stop = new AbortController();
    const r = await launchThreads({
      file: FIXTURE,
      worldSize: 2,
      sets: ['untilStop=1'],
      resume: false,
      hooks: {
        signal: stop.signal,
        onStep: (p) => {
          if (p.step === 3) stop.abort();
        },
      },
    });
    expect(r.stopped).toBe(true);
    expect(r.losses.length).toBeGreaterThanOrEqual(3);
    expect(r.losses.every((l) => l === 3)).toBe(true);
  });
});
