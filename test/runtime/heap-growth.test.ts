import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COORDINATOR_HEAP_GROWING_PERCENT, ownHeapGrowth } from '../../src/runtime/heap-growth.ts';
import { TS_IMPORT } from '../cli/spawn.ts';

const MODULE = fileURLToPath(new URL('../../src/runtime/heap-growth.ts', import.meta.url));

// A child that allocates little and waits a lot, as a coordinator does: a live heap of ~24 MB, then
// rounds of a 300 ms wait, a few hundred small objects and a full collection. V8 prints the factor each
// collection sets the next limit with (--trace-gc-verbose: "[HeapController] Limit: ... (F)").
// GROW=1: the coordinator's setting first, as `flowlm prep --cluster` applies it.
const PROBE = `
const v8 = await import('node:v8');
if (process.env.GROW === '1') (await import(${JSON.stringify(MODULE)})).growCoordinatorHeap([]);
v8.setFlagsFromString('--expose-gc');
v8.setFlagsFromString('--trace-gc-verbose');
const collect = (await import('node:vm')).runInNewContext('gc');
const live = Array.from({ length: 300_000 }, (_, i) => ({ i, s: 'x' + i }));
for (let r = 0; r < 8; r++) {
  await new Promise((res) => setTimeout(res, 300));
  for (let j = 0; j < 200; j++) live[j] = { j, s: 'y' + j };
  collect();
}
`;

const factors = (grow: boolean): number[] => {
  const out = execFileSync(process.execPath, ['--import', TS_IMPORT, '--input-type=module', '-e', PROBE], {
    env: { ...process.env, GROW: grow ? '1' : '0' },
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  return [...out.matchAll(/\[HeapController\] Limit: .*\(([\d.]+)\)/g)].map((m) => Number(m[1]));
};

describe("a cluster coordinator's heap growth", () => {
  it('keeps a fixed factor of 4 where V8 would shrink it for a process that mostly waits', () => {
    const plain = factors(false);
    const grown = factors(true);
    expect(plain.length).toBeGreaterThanOrEqual(8);
    expect(grown.length).toBeGreaterThanOrEqual(8);
    // V8's own: smaller and smaller steps as the program looks idle
    expect(Math.min(...plain.slice(-3))).toBeLessThan(3);
    // the coordinator's: every limit 4x what the collection kept
    for (const f of grown) expect(f).toBeCloseTo(1 + COORDINATOR_HEAP_GROWING_PERCENT / 100, 1);
  }, 30_000);

  it("leaves a process's own --heap-growing-percent alone", () => {
    expect(ownHeapGrowth(['--heap-growing-percent=50'])).toBe(true);
    expect(ownHeapGrowth(['--heap_growing_percent', '50'])).toBe(true);
    expect(ownHeapGrowth(['--max-old-space-size=4096'])).toBe(false);
    expect(ownHeapGrowth([])).toBe(false);
  });
});
