import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { FLOOR_MB, ownFloor, withHeapFloor } from '../../src/runtime/pool-heap.ts';

// A thread that collects fully once (so V8 sizes its old generation's limit from a small live heap, as a
// kernel thread's is), then keeps ~40 MB of small objects alive, and reports the full collections that
// took meanwhile.
const PROBE = `
const { parentPort } = require('node:worker_threads');
const { PerformanceObserver, constants } = require('node:perf_hooks');
const v8 = require('node:v8');
v8.setFlagsFromString('--expose-gc');
const collect = require('node:vm').runInNewContext('gc');
collect();
let majors = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
});
obs.observe({ entryTypes: ['gc'] });
const keep = [];
for (let i = 0; i < 100; i++) keep.push(Array.from({ length: 10000 }, (_, k) => ({ k })));
setTimeout(() => {
  obs.disconnect();
  parentPort.postMessage({ majors, usedMb: v8.getHeapStatistics().used_heap_size / 1048576 });
}, 50);
`;

const probe = (w: Worker) =>
  new Promise<{ majors: number; usedMb: number }>((resolve, reject) => {
    w.once('error', reject);
    w.once('message', (m: { majors: number; usedMb: number }) => {
      resolve(m);
      void w.terminate();
    });
  });

describe('pool thread heap floor', () => {
  it('lets a pool thread grow past a small heap without a full collection; other threads keep V8 defaults', async () => {
    const floored = await probe(withHeapFloor(() => new Worker(PROBE, { eval: true })));
    const plain = await probe(new Worker(PROBE, { eval: true }));
    // both kept the same ~40 MB, below the floor
    expect(floored.usedMb).toBeGreaterThan(30);
    expect(floored.usedMb).toBeLessThan(FLOOR_MB);
    expect(plain.usedMb).toBeGreaterThan(30);
    expect(floored.majors).toBe(0);
    // the flag was cleared once the floored thread ran: V8's own limit collects this one
    expect(plain.majors).toBeGreaterThanOrEqual(1);
  });

  it('clears the flag when the thread cannot start', async () => {
    expect(() =>
      withHeapFloor(() => {
        throw new Error('no thread');
      }),
    ).toThrow('no thread');
    expect((await probe(new Worker(PROBE, { eval: true }))).majors).toBeGreaterThanOrEqual(1);
  });

  it("leaves a process's own --initial-old-space-size alone", () => {
    expect(ownFloor(['--initial-old-space-size=16'])).toBe(true);
    expect(ownFloor(['--inspect', '--initial_old_space_size=8'])).toBe(true);
    expect(ownFloor(['--initial-old-space-size', '16'])).toBe(true);
    expect(ownFloor(['--max-old-space-size=512', '--initial-heap-size=8'])).toBe(false);
    expect(ownFloor([])).toBe(false);
  });
});
