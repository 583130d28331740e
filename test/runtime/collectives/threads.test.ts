// The ring over SharedArrayBuffer mailboxes between real worker threads: 5M-element all-reduces agree
// bit for bit on every rank and with the ring's exact order, and a thread that dies mid-operation
// makes the others fail within seconds naming it.
import { describe, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { CollectiveError } from '../../../src/runtime/collectives/collective.ts';
import { createThreadGroup, threadCollective } from '../../../src/runtime/collectives/thread-transport.ts';
import { tsWorker } from '../../../src/runtime/thread-boot.ts';
import type { ThreadRankData, ThreadRankReply } from '../../fixtures/collectives-thread-rank.ts';
import { checksum, firstMismatch, rankInputs, reference, ringOrder } from './reference.ts';

const ENTRY = new URL('../../fixtures/collectives-thread-rank.ts', import.meta.url).href;
const N = 5_000_000;

function spawnRanks(worldSize: number, data: Omit<ThreadRankData, 'handle'>, victim?: number) {
  const group = createThreadGroup(worldSize);
  const exits: { rank: number; code: number; at: number }[] = [];
  const workers: Worker[] = [];
  const replies = Promise.all(
    group.handles.map(
      (handle, rank) =>
        new Promise<ThreadRankReply | undefined>((resolve, reject) => {
          const w = tsWorker(ENTRY, {
            workerData: { ...data, handle, exitMidOperation: rank === victim } satisfies ThreadRankData,
          });
          workers.push(w);
          group.watch(w, rank);
          w.once('message', (m: ThreadRankReply) => resolve(m));
          w.once('error', reject);
          w.once('exit', (code) => {
            exits.push({ rank, code, at: Date.now() });
            resolve(undefined);
          });
        }),
    ),
  );
  return { group, replies, exits, workers };
}

describe('thread transport', () => {
  for (const w of [2, 3]) {
    it(`${w} worker threads all-reduce ${N} floats to identical bits, equal to the reference`, async () => {
      const op = w === 2 ? 'sum' : 'mean';
      const { replies } = spawnRanks(w, { length: N, seed: 40 + w, op });
      const inputs = rankInputs(w, N, 40 + w);
      const { value, tol } = reference(inputs, op);
      const exact = ringOrder(inputs, op);
      expect(firstMismatch(exact, value, tol)).toBe(-1);
      const got = await replies;
      for (const m of got) {
        expect(m?.kind, JSON.stringify(m)).toBe('done');
        if (m?.kind === 'done') expect(m.checksum, `rank ${m.rank}`).toBe(checksum(exact));
      }
    });
  }

  it('a thread exiting mid-operation makes the others reject within seconds, naming its rank', async () => {
    const { replies, exits } = spawnRanks(3, { length: N, seed: 9, op: 'sum' }, 1);
    const got = await replies;
    const victimExit = exits.find((e) => e.rank === 1);
    expect(victimExit?.code).toBe(7);
    for (const r of [0, 2]) {
      const m = got[r];
      expect(m?.kind, JSON.stringify(m)).toBe('failed');
      if (m?.kind !== 'failed') continue;
      expect(m.failedRank).toBe(1);
      expect(m.message).toMatch(
        /rank 1 was lost \(its thread exited with code 7 before closing the collective\) during allReduce/,
      );
      expect(m.at - victimExit!.at).toBeLessThan(3000);
    }
  });

  it('ranks sharing one thread (waits never block it): tiny slots, odd lengths, every operation', async () => {
    for (const w of [2, 3, 4]) {
      // 8-byte slots, 2 per mailbox: every chunk spans many messages and the slots wrap around often
      const group = createThreadGroup(w, { slots: 2, slotBytes: 8 });
      const cs = group.handles.map((h) => threadCollective(h));
      for (const n of [0, 1, 5, 37]) {
        const inputs = rankInputs(w, n, n);
        const exact = ringOrder(inputs, 'mean');
        await Promise.all(cs.map((c) => c.allReduce(inputs[c.rank]!, 'mean')));
        for (const a of inputs) expect(checksum(a)).toBe(checksum(exact));
      }
      const bytes = cs.map((c) => new Uint8Array(21).fill(c.rank + 1));
      await Promise.all(cs.map((c) => c.broadcast(bytes[c.rank]!, 1)));
      for (const b of bytes) expect([...b]).toEqual(new Array(21).fill(2));
      await Promise.all(cs.map((c) => c.barrier()));
      await Promise.all(cs.map((c) => c.close()));
    }
  });

  it('abort on one rank wakes the others, naming it', async () => {
    const group = createThreadGroup(3);
    const cs = group.handles.map((h) => threadCollective(h));
    const pending = [0, 1].map((r) =>
      cs[r]!.allReduce(new Float32Array(100)).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    cs[2]!.abort(new Error('loss is NaN'));
    for (const err of await Promise.all(pending)) {
      expect(err).toBeInstanceOf(CollectiveError);
      expect((err as CollectiveError).failedRank).toBe(2);
      expect((err as Error).message).toBe('rank 2 aborted the group (loss is NaN) during allReduce');
    }
  });

  it('abort from the main thread wakes a rank blocked in an operation', async () => {
    const group = createThreadGroup(2);
    const c = threadCollective(group.handles[0]!); // rank 1 never comes
    const pending = c.allReduce(new Float32Array(1000));
    const t0 = Date.now();
    setTimeout(() => group.abort(new CollectiveError(1, 'rank 1 failed: out of memory')), 50);
    const err = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CollectiveError);
    expect((err as CollectiveError).failedRank).toBe(1);
    expect((err as CollectiveError).message).toBe('rank 1 failed: out of memory during allReduce');
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
