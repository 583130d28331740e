// launchProcesses: one `flowlm train --rank r --world-size W --master 127.0.0.1:<port>` child per device
// with the stand-in pipeline (test/fixtures/rank-pipeline.ts), meeting over loopback TCP: rank 0's
// result comes back over IPC; a failing child stops the others and the launch names its rank.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CollectiveError } from '../../src/runtime/collectives/index.ts';
import type { Device } from '../../src/scheduler/devices.ts';
import { freePort, launchProcesses } from '../../src/scheduler/launch-processes.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/rank-pipeline.ts', import.meta.url));
// CPU stand-ins for GPUs: the launcher treats them alike, minus CUDA_VISIBLE_DEVICES
const devices = (n: number): Device[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'cpu', index: i, label: `cpu:${i}` }));
const sets = (...s: string[]) => s.flatMap((x) => ['--set', x]);

describe('launchProcesses', () => {
  it("runs one process per device and returns rank 0's result", async () => {
    const r = await launchProcesses({ file: FIXTURE, devices: devices(2), args: sets('steps=3') });
    expect(r.losses).toEqual([3, 3, 3]); // all-reduced rank + 1 over ranks 0 and 1
    expect(r.extra).toEqual({ rank: 0, headThread: '0' });
  });

  it('a failing child: the others are stopped and the error names its rank', async () => {
    const t0 = performance.now();
    const err = await launchProcesses({
      file: FIXTURE,
      devices: devices(2),
      args: sets('steps=5', 'fail=1', 'hang=1'),
      graceMs: 500,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CollectiveError);
    expect((err as CollectiveError).failedRank).toBe(1);
    expect((err as Error).message).toMatch(/training rank 1 of 2 \(cpu:1\) exited with code 1 before finishing/);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it('freePort gives a port nothing listens on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65_536);
  });
});
