// The ring algorithms (ring.ts) over the in-thread transport: values against a float64 reference,
// the exact summation order, bit-identical results on every rank, shard ownership, segmentation.
import { describe, expect, it } from 'vitest';
import { CollectiveError, shardRange, type Collective } from '../../../src/runtime/collectives/collective.ts';
import { memoryGroup } from '../../../src/runtime/collectives/memory-transport.ts';
import { bitsEqual, firstMismatch, rankInputs, reference, ringOrder } from './reference.ts';

const LENGTHS = [0, 1, 2, 3, 5, 7, 31, 1001];
// 12-byte segments split every chunk of these lengths into several messages; 1 MiB sends each whole
const SEGMENTS = [12, 1 << 20];

describe('ring allReduce / reduceScatter over memoryGroup', () => {
  for (const w of [1, 2, 3, 4])
    for (const op of ['sum', 'mean'] as const) {
      it(`worldSize ${w}, ${op}: matches the float64 reference, in ring order, identical on every rank`, async () => {
        for (const segmentBytes of SEGMENTS)
          for (const n of LENGTHS) {
            const inputs = rankInputs(w, n, n + 17 * w);
            const { value, tol } = reference(inputs, op);
            const exact = ringOrder(inputs, op);
            const data = inputs.map((a) => a.slice());
            const group = memoryGroup(w, { segmentBytes });
            await Promise.all(group.map((c) => c.allReduce(data[c.rank]!, op)));
            for (let r = 0; r < w; r++) {
              expect(firstMismatch(data[r]!, value, tol), `rank ${r}, n ${n}, seg ${segmentBytes}`).toBe(-1);
              expect(bitsEqual(data[r]!, exact), `rank ${r}, n ${n}: not the ring's summation order`).toBe(true);
            }
            // reduceScatter: rank r's shard holds exactly what allReduce gives there
            const scattered = inputs.map((a) => a.slice());
            await Promise.all(group.map((c) => c.reduceScatter(scattered[c.rank]!, op)));
            for (let r = 0; r < w; r++) {
              const [s, e] = shardRange(n, r, w);
              expect(
                bitsEqual(scattered[r]!.subarray(s, e), exact.subarray(s, e)),
                `rank ${r} shard [${s}, ${e}) of ${n}`,
              ).toBe(true);
            }
            await Promise.all(group.map((c) => c.close()));
          }
      });
    }

  it("really reduces: the result differs from every rank's input and the sum is W times the mean", async () => {
    const inputs = rankInputs(3, 100, 5);
    const sums = inputs.map((a) => a.slice()),
      means = inputs.map((a) => a.slice());
    const g = memoryGroup(3);
    await Promise.all(g.map((c) => c.allReduce(sums[c.rank]!, 'sum')));
    await Promise.all(g.map((c) => c.allReduce(means[c.rank]!, 'mean')));
    for (let r = 0; r < 3; r++) expect(bitsEqual(sums[0]!, inputs[r]!)).toBe(false);
    for (let i = 0; i < 100; i++) expect(means[1]![i]! * 3).toBeCloseTo(sums[1]![i]!, 5);
  });

  it('runs operations in call order when a rank issues several without awaiting', async () => {
    const w = 3,
      g = memoryGroup(w, { segmentBytes: 8 });
    const a = rankInputs(w, 50, 1),
      b = rankInputs(w, 23, 2);
    const wantA = ringOrder(a, 'sum'),
      wantB = ringOrder(b, 'mean');
    await Promise.all(g.flatMap((c) => [c.allReduce(a[c.rank]!, 'sum'), c.allReduce(b[c.rank]!, 'mean')]));
    for (let r = 0; r < w; r++) {
      expect(bitsEqual(a[r]!, wantA)).toBe(true);
      expect(bitsEqual(b[r]!, wantB)).toBe(true);
    }
  });
});

describe('allGather, broadcast, barrier', () => {
  it("allGather: every rank ends with every owner's shard", async () => {
    for (const w of [1, 2, 3, 4])
      for (const n of [0, 2, 5, 9, 1001]) {
        const full = rankInputs(1, n, 99 + n)[0]!;
        // each rank holds only its own shard; the rest is garbage it must not send
        const data = Array.from({ length: w }, (_, r) => {
          const a = new Float32Array(n).fill(-1e9 - r);
          const [s, e] = shardRange(n, r, w);
          a.set(full.subarray(s, e), s);
          return a;
        });
        const g = memoryGroup(w, { segmentBytes: 16 });
        await Promise.all(g.map((c) => c.allGather(data[c.rank]!)));
        for (let r = 0; r < w; r++) expect(bitsEqual(data[r]!, full), `w ${w} n ${n} rank ${r}`).toBe(true);
      }
  });

  it("broadcast: every rank ends with the root's bytes, for every root", async () => {
    for (const w of [1, 2, 3, 4])
      for (let root = 0; root < w; root++)
        for (const n of [0, 1, 7, 1000]) {
          const data = Array.from({ length: w }, (_, r) =>
            Uint8Array.from({ length: n }, (_, i) => (i * 31 + r * 7) & 255),
          );
          const want = data[root]!.slice();
          const g = memoryGroup(w, { segmentBytes: 12 });
          await Promise.all(g.map((c) => c.broadcast(data[c.rank]!, root)));
          for (let r = 0; r < w; r++)
            expect(Buffer.from(data[r]!).equals(Buffer.from(want)), `w ${w} root ${root} n ${n} rank ${r}`).toBe(true);
        }
  });

  it('barrier: no rank passes until every rank has arrived', async () => {
    const g = memoryGroup(3);
    const passed: number[] = [];
    const early = [0, 1].map((r) => g[r]!.barrier().then(() => passed.push(r)));
    for (let i = 0; i < 20; i++) await new Promise((res) => setImmediate(res));
    expect(passed).toEqual([]);
    await Promise.all([...early, g[2]!.barrier().then(() => passed.push(2))]);
    expect(passed.sort()).toEqual([0, 1, 2]);
  });
});

describe('failures', () => {
  it("abort on one rank rejects the others' pending and later operations, naming that rank", async () => {
    const g = memoryGroup(3);
    const pending = [g[0]!.allReduce(new Float32Array(10)), g[1]!.allReduce(new Float32Array(10))];
    g[2]!.abort(new Error('out of memory'));
    for (const p of pending) {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CollectiveError);
      expect((err as CollectiveError).failedRank).toBe(2);
      expect((err as CollectiveError).message).toMatch(/rank 2 aborted the group \(out of memory\) during allReduce/);
    }
    await expect(g[0]!.broadcast(new Uint8Array(3), 0)).rejects.toThrow(/rank 2 aborted/);
  });

  it('ranks out of step (length, operation, reduce op, root) are told so instead of mixing data or hanging', async () => {
    const cases: [string, (c: Collective) => Promise<void>][] = [
      // many 16-byte segments each: the lengths differ only in the last one
      ['length', (c) => c.allReduce(new Float32Array(c.rank === 0 ? 1000 : 1004))],
      ['operation', (c) => (c.rank === 0 ? c.allReduce(new Float32Array(100)) : c.allGather(new Float32Array(100)))],
      ['reduce op', (c) => c.allReduce(new Float32Array(100), c.rank === 1 ? 'mean' : 'sum')],
      ['root', (c) => c.broadcast(new Uint8Array(100), c.rank === 2 ? 1 : 0)],
    ];
    for (const [what, call] of cases) {
      const g = memoryGroup(3, { segmentBytes: 16 });
      const results = await Promise.allSettled(g.map(call));
      for (const r of results) {
        expect(r.status, what).toBe('rejected');
        expect(String((r as PromiseRejectedResult).reason), what).toMatch(
          /are out of step \(.*; here: operation #0, .*\) during (allReduce|allGather|broadcast)$/,
        );
      }
    }
  });

  it('an operation after close() is refused', async () => {
    const g = memoryGroup(2);
    await Promise.all(g.map((c) => c.close()));
    await expect(g[0]!.allReduce(new Float32Array(4))).rejects.toThrow(/after close/);
  });
});
