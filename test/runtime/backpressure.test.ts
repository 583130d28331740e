// The backpressure contract (DESIGN.md §4): a source never runs ahead of its slowest consumer by
// more than its budget, through drops, splits, merges and fan-out.
import { beforeEach, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/runtime/run.ts';
import { pipeline } from '../../src/graph/spec.ts';
import {
  countingSource,
  dropEven,
  mergeBatches,
  probes,
  slowSink,
  splitBatches,
} from '../fixtures/ops/backpressure-ops.ts';

beforeEach(() => probes.clear());

const source = (batches: number, probe = 'p') => ({ op: countingSource, config: { batches, probe } });
const sink = (ms: number, probe = 'p') => ({ op: slowSink, config: { ms, probe } });

describe('backpressure', () => {
  it('a slow sink holds a linear source to maxInFlight batches', async () => {
    const r = await runPipeline(
      pipeline({
        budget: { maxInFlight: 4 },
        steps: [
          { id: 'src', ...source(60) },
          { id: 'out', ...sink(3) },
        ],
      }),
    );
    expect(r.ok).toBe(true);
    expect(r.nodes.out!.batchesIn).toBe(60);
    expect(r.sources.src!.peakInFlight).toBe(4); // reached, never exceeded
    expect(probes.get('p')!.maxAhead).toBeLessThanOrEqual(4 + 1); // +1: the pull that waits for credit
  });

  it('counts bytes: a byte budget smaller than two batches keeps one batch in flight', async () => {
    const r = await runPipeline(
      pipeline({
        budget: { maxInFlight: 8, maxInFlightBytes: 1000 },
        steps: [
          { id: 'src', ...source(20) },
          { id: 'out', ...sink(2) },
        ],
      }),
    );
    expect(r.ok).toBe(true);
    expect(r.sources.src!.peakInFlight).toBe(1);
  });

  it('batches dropped whole by a filter return their credit (no stall, bound kept)', async () => {
    const r = await runPipeline(
      pipeline({
        budget: { maxInFlight: 3 },
        steps: [
          { id: 'src', ...source(40) },
          { id: 'drop', op: dropEven },
          { id: 'out', ...sink(3) },
        ],
      }),
    );
    expect(r.ok).toBe(true);
    expect(r.nodes.out!.batchesIn).toBe(20);
    expect(r.nodes.drop!.dropReasons.even).toBe(40 * 16 - 20 * 8);
    expect(r.sources.src!.peakInFlight).toBeLessThanOrEqual(3);
    expect(r.sources.src!.inFlight).toBe(0);
  });

  it('splits share one credit and merges hold all of theirs', async () => {
    const r = await runPipeline(
      pipeline({
        budget: { maxInFlight: 4 },
        steps: [
          { id: 'src', ...source(30) },
          { id: 'split', op: splitBatches, config: { parts: 4 } },
          { id: 'merge', op: mergeBatches, config: { group: 6 } },
          { id: 'out', ...sink(4) },
        ],
      }),
    );
    expect(r.ok).toBe(true);
    expect(r.nodes.out!.rowsIn).toBe(30 * 16);
    expect(r.nodes.out!.batchesIn).toBe(20); // 120 pieces merged 6 at a time
    expect(r.sources.src!.peakInFlight).toBeLessThanOrEqual(4);
    expect(r.sources.src!.inFlight).toBe(0);
  });

  it('fan-out: the slowest consumer paces the source', async () => {
    const t0 = performance.now();
    const r = await runPipeline(
      pipeline({
        budget: { maxInFlight: 2 },
        nodes: { src: source(30, 'slow'), fast: sink(0, 'fast'), slow: sink(15, 'slow') },
        edges: [
          ['src', 'fast'],
          ['src', 'slow'],
        ],
      }),
    );
    const ms = performance.now() - t0;
    expect(r.ok).toBe(true);
    expect(r.nodes.fast!.batchesIn).toBe(30);
    expect(r.nodes.slow!.batchesIn).toBe(30);
    expect(r.sources.src!.peakInFlight).toBeLessThanOrEqual(2);
    // the source was never more than the budget (+ the pull waiting for credit) ahead of the slow sink
    expect(probes.get('slow')!.maxAhead).toBeLessThanOrEqual(3);
    expect(ms).toBeGreaterThanOrEqual(30 * 15 * 0.9);
  });

  it('fan-in: two sources keep separate budgets into one sink', async () => {
    const r = await runPipeline(
      pipeline({
        budget: { maxInFlight: 3 },
        nodes: { a: source(15, 'a'), b: source(15, 'b'), out: sink(3, 'a') },
        edges: [
          ['a', 'out'],
          ['b', 'out'],
        ],
      }),
    );
    expect(r.ok).toBe(true);
    expect(r.nodes.out!.batchesIn).toBe(30);
    expect(r.sources.a!.peakInFlight).toBeLessThanOrEqual(3);
    expect(r.sources.b!.peakInFlight).toBeLessThanOrEqual(3);
  });
});
