// The ring over TCP on 127.0.0.1: ranks in this process for the protocol (results, clean close,
// rendezvous errors), and ranks as child processes for the real case: identical checksums, and a
// SIGKILLed rank named by every other rank within seconds.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectiveError, type Collective } from '../../../src/runtime/collectives/collective.ts';
import { controlFrame } from '../../../src/runtime/collectives/frames.ts';
import { socketCollective } from '../../../src/runtime/collectives/socket-transport.ts';
import { bitsEqual, checksum, firstMismatch, rankInputs, reference, ringOrder } from './reference.ts';
import { spawnGroup, type ProcessGroup } from './socket-group.ts';

async function inProcess(worldSize: number, segmentBytes?: number): Promise<Collective[]> {
  let port!: (p: number) => void;
  const listening = new Promise<number>((r) => {
    port = r;
  });
  const first = socketCollective({
    rank: 0,
    worldSize,
    master: { host: '127.0.0.1', port: 0 },
    onListening: (a) => port(a.port),
    segmentBytes,
  });
  const p = await listening;
  const rest = Array.from({ length: worldSize - 1 }, (_, i) =>
    socketCollective({ rank: i + 1, worldSize, master: { host: '127.0.0.1', port: p }, segmentBytes }),
  );
  return Promise.all([first, ...rest]);
}

describe('socket transport, ranks in this process', () => {
  for (const w of [2, 3]) {
    it(`${w} ranks: allReduce, reduceScatter, allGather, broadcast and barrier give identical, correct results`, async () => {
      const g = await inProcess(w, 4000);
      for (const n of [0, 1, 2, 1001, 100_003])
        for (const op of ['sum', 'mean'] as const) {
          const inputs = rankInputs(w, n, n + w);
          const { value, tol } = reference(inputs, op);
          const exact = ringOrder(inputs, op);
          await Promise.all(g.map((c) => c.allReduce(inputs[c.rank]!, op)));
          for (const a of inputs) {
            expect(firstMismatch(a, value, tol)).toBe(-1);
            expect(bitsEqual(a, exact)).toBe(true);
          }
        }
      const bytes = g.map((c) => new Uint8Array(10_001).fill(c.rank + 1));
      await Promise.all(g.map((c) => c.broadcast(bytes[c.rank]!, w - 1)));
      for (const b of bytes) expect(b.every((x) => x === w)).toBe(true);
      await Promise.all(g.map((c) => c.barrier()));
      await Promise.all(g.map((c) => c.close()));
    });
  }

  it('close() is a goodbye, not a failure: a later operation is told the peer closed', async () => {
    const g = await inProcess(2);
    await Promise.all(g.map((c) => c.allReduce(new Float32Array(10))));
    await g[1]!.close();
    await new Promise((r) => setTimeout(r, 200));
    const err = await g[0]!.allReduce(new Float32Array(10)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).message).toBe('rank 1 has closed its collective during allReduce');
    await g[0]!.close();
  });

  it('a rank that never comes makes the rendezvous fail with a clear error after timeoutMs', async () => {
    let port!: (p: number) => void;
    const listening = new Promise<number>((r) => {
      port = r;
    });
    const t0 = Date.now();
    const lonely = socketCollective({
      rank: 0,
      worldSize: 3,
      master: { host: '127.0.0.1', port: 0 },
      timeoutMs: 1500,
      onListening: (a) => port(a.port),
    });
    const one = socketCollective({
      rank: 1,
      worldSize: 3,
      master: { host: '127.0.0.1', port: await listening },
      timeoutMs: 1500,
    });
    const [e0, e1] = await Promise.all(
      [lonely, one].map((p) =>
        p.then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    expect(e0).toBeInstanceOf(CollectiveError);
    expect(String((e0 as Error).message)).toMatch(/rendezvous of rank 0 of 3 .* timed out: rank 2 did not register/);
    expect(e1).toBeInstanceOf(CollectiveError);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a rank lost during the rendezvous fails it at once, naming the rank', async () => {
    let port!: (p: number) => void;
    const listening = new Promise<number>((r) => {
      port = r;
    });
    const t0 = Date.now();
    const master = socketCollective({
      rank: 0,
      worldSize: 3,
      master: { host: '127.0.0.1', port: 0 },
      timeoutMs: 20_000,
      onListening: (a) => port(a.port),
    });
    // registers as rank 2 the way a rank does, then goes away
    const sock = connect({ host: '127.0.0.1', port: await listening });
    sock.on('connect', () => {
      sock.write(controlFrame({ t: 'hello', kind: 'control', rank: 2, worldSize: 3, host: '127.0.0.1', port: 1 }));
      setTimeout(() => sock.destroy(), 100);
    });
    const err = await master.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CollectiveError);
    expect((err as CollectiveError).failedRank).toBe(2);
    expect((err as Error).message).toMatch(
      /rendezvous of rank 0 of 3 .* failed after \d+ ms: rank 2 was lost \(connection closed\)$/,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a worker without a master gives up after timeoutMs naming the address', async () => {
    await expect(
      socketCollective({ rank: 1, worldSize: 2, master: { host: '127.0.0.1', port: 9 }, timeoutMs: 600 }),
    ).rejects.toThrow(/could not connect to 127\.0\.0\.1:9: ECONNREFUSED/);
  });

  it('abort on one rank reaches the others (also through rank 0), naming it', async () => {
    const g = await inProcess(4);
    const pending = [0, 1, 3].map((r) =>
      g[r]!.allReduce(new Float32Array(1000)).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    g[2]!.abort(new Error('gradient was NaN'));
    for (const err of await Promise.all(pending)) {
      expect(err).toBeInstanceOf(CollectiveError);
      expect((err as CollectiveError).failedRank).toBe(2);
      expect((err as Error).message).toBe('rank 2 aborted the group (gradient was NaN) during allReduce');
    }
    await Promise.all(g.map((c) => c.close()));
  });
});

describe('socket transport, ranks as processes', () => {
  let group: ProcessGroup | undefined;
  afterEach(() => {
    group?.kill();
    group = undefined;
  });

  for (const w of [2, 3]) {
    it(`${w} processes all-reduce 2M floats to identical bits, equal to the reference`, async () => {
      const n = 2_000_000,
        op = 'mean' as const;
      group = await spawnGroup(w, { length: n, seed: 70 + w, op, rounds: 1 });
      const inputs = rankInputs(w, n, 70 + w);
      const { value, tol } = reference(inputs, op);
      const exact = ringOrder(inputs, op);
      expect(firstMismatch(exact, value, tol)).toBe(-1);
      for (let r = 0; r < w; r++) {
        const done = await group.until(r, (l) => l.kind === 'done' || l.kind === 'failed');
        expect(done, group.stderr(r)).toMatchObject({ kind: 'done', checksum: checksum(exact) });
      }
    });
  }

  for (const [w, victim] of [
    [3, 1],
    [4, 2],
  ] as const) {
    it(`SIGKILL of rank ${victim} of ${w} mid-operation: every other rank fails within seconds naming it`, async () => {
      group = await spawnGroup(w, { length: 1_000_000, seed: 5, op: 'sum', rounds: 100_000 });
      await group.until(victim, (l) => l.kind === 'round' && l.round >= 1);
      const killedAt = Date.now();
      group.procs[victim]!.kill('SIGKILL');
      for (let r = 0; r < w; r++) {
        if (r === victim) continue;
        const l = await group.until(r, (x) => x.kind === 'failed' || x.kind === 'done', 10_000);
        expect(l.kind, group.stderr(r)).toBe('failed');
        if (l.kind !== 'failed') continue;
        expect(l.failedRank).toBe(victim);
        expect(l.message).toMatch(
          new RegExp(
            `^rank ${victim} was lost \\(connection (closed|reset: ECONNRESET|failed: EPIPE)\\) during (allReduce|barrier)$`,
          ),
        );
        expect(l.at - killedAt).toBeLessThan(3000);
      }
      // a failed group does not keep a process alive: the survivors exit on their own, without close()
      for (let r = 0; r < w; r++) if (r !== victim) expect(await group.exited(r)).toBe(1);
    });
  }
});
