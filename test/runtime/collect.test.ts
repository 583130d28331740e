// Collections paced by batch bytes: a young-generation collection every `everyBytes`, a full one
// every `majorEvery` of those, whatever V8 would have decided on its own.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { CollectionPacer } from '../../src/runtime/collect.ts';

/** GC kinds (perf_hooks constants) seen while `work` runs and a moment after. */
async function collectionsDuring(work: () => void): Promise<number[]> {
  const kinds: number[] = [];
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) kinds.push((e as unknown as { detail: { kind: number } }).detail.kind); });
  obs.observe({ entryTypes: ['gc'] });
  work();
  await new Promise((r) => setTimeout(r, 100));
  obs.disconnect();
  return kinds;
}

describe('CollectionPacer', () => {
  it('asks for a young collection each time the bytes it is told of reach everyBytes, and a full one every majorEvery', async () => {
    const pacer = new CollectionPacer(1 << 20, 3);
    const kinds = await collectionsDuring(() => { for (let i = 0; i < 6; i++) pacer.add(1 << 20); });
    expect(kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MINOR).length).toBeGreaterThanOrEqual(4);
    expect(kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MAJOR).length).toBeGreaterThanOrEqual(2);
  });
});
