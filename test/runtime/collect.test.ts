// Collections paced by batch bytes: a young-generation collection every `everyBytes`, a full one
// every `majorEvery` of those, whatever V8 would have decided on its own; the full one is V8's
// ordinary kind, which keeps optimized code (a forced one drops it).
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CollectionPacer } from '../../src/runtime/collect.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GC kinds (perf_hooks constants) seen while `work` runs and a moment after. */
async function collectionsDuring(work: () => Promise<void>): Promise<number[]> {
  const kinds: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) kinds.push((e as unknown as { detail: { kind: number } }).detail.kind);
  });
  obs.observe({ entryTypes: ['gc'] });
  await work();
  await wait(100);
  obs.disconnect();
  return kinds;
}

/** A function optimized by TurboFan for objects of a class that has no instances left (the class is
 * kept): `optimized()` tells whether its optimized code is still there. */
function optimizedProbe(): () => boolean {
  setFlagsFromString('--allow-natives-syntax');
  const make = new Function(`
    class Shape { constructor() { this.a = 1; this.b = 2; } }
    function sum(o) { return o.a + o.b; }
    %PrepareFunctionForOptimization(sum);
    sum(new Shape()); sum(new Shape());
    %OptimizeFunctionOnNextCall(sum);
    sum(new Shape());
    const kept = Shape;
    return () => kept !== undefined && (%GetOptimizationStatus(sum) & 16) !== 0;
  `) as () => () => boolean;
  return make();
}

describe('CollectionPacer', () => {
  it('asks for a young collection each time the bytes it is told of reach everyBytes, and a full one every majorEvery', async () => {
    const pacer = new CollectionPacer(1 << 20, 3);
    const kinds = await collectionsDuring(async () => {
      for (let i = 0; i < 6; i++) {
        pacer.add(1 << 20);
        await wait(40);
      }
    });
    expect(kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MINOR).length).toBeGreaterThanOrEqual(4);
    expect(kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MAJOR).length).toBeGreaterThanOrEqual(2);
  });

  it('its full collection keeps optimized code, where a forced one (gc()) drops it', async () => {
    const pacer = new CollectionPacer(1 << 20, 1);
    const kept = optimizedProbe();
    expect(kept()).toBe(true);
    const kinds = await collectionsDuring(async () => pacer.add(1 << 20));
    expect(kinds).toContain(constants.NODE_PERFORMANCE_GC_MAJOR);
    expect(kept()).toBe(true);

    // the same with V8's gc() as the pacer used to call it: what it now avoids (this part also shows
    // that the probe can tell)
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (o: { type: 'major'; execution: 'async' }) => Promise<void>;
    const dropped = optimizedProbe();
    expect(dropped()).toBe(true);
    await gc({ type: 'major', execution: 'async' });
    await wait(50);
    expect(dropped()).toBe(false);
  });
});
