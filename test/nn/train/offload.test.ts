// trainer offload 'disk' (src/nn/optim/disk-offload-adamw.ts): AdamW's moments in an unlinked file,
// one chunk of them in memory at a time. The update is AdamW's bit for bit (step by step against the
// in-memory optimizer, and a whole run's losses and weights), the state round-trips through
// checkpoints (a stopped and resumed run continues exactly), and the moments really are on disk.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { Gpt } from '../../../src/nn/model/gpt.ts';
import { GPT_PRESETS, gptConfig } from '../../../src/nn/model/config.ts';
import { paramSpecs, sizeOf } from '../../../src/nn/model/params.ts';
import { memoryPlan } from '../../../src/scheduler/memory-plan.ts';
import { AdamWOptimizer } from '../../../src/nn/optim/adamw-optimizer.ts';
import { CHUNK, DiskOffloadAdamW } from '../../../src/nn/optim/disk-offload-adamw.ts';
import type { TrainResult } from '../../../src/nn/train/trainer.ts';
import { Rng } from '../../../src/runtime/rng.ts';
import { microCfg, runRanks, stopAfter } from './micro-run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-offload-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ announce: false });
});

describe("trainer offload 'disk'", () => {
  it('updates bit for bit as in-memory AdamW, holds one chunk of moments in memory, keeps the rest on disk', async () => {
    const cfg = { vocabSize: 300, contextLength: 16, nLayer: 2, nHead: 2, dModel: 16, mlpRatio: 4 };
    const [a, b] = [Gpt.create(cfg, { seed: 3 }), Gpt.create(cfg, { seed: 3 })];
    const o = { beta1: 0.9, beta2: 0.95, weightDecay: 0.1 };
    const mem = new AdamWOptimizer(a.specs, o);
    const dir = join(tmp, 'unit');
    mkdirSync(dir);
    // chunks of 100 elements: every parameter but the layer norms' takes several reads
    const disk = new DiskOffloadAdamW(b.specs, o, dir, 100);
    const rng = new Rng(9);
    for (let step = 0; step < 4; step++) {
      const grads = new Map(
        a.specs.map((s) => [s.name, Float32Array.from({ length: sizeOf(s.shape) }, () => rng.next() - 0.5)]),
      );
      await mem.apply(a, grads, 1e-2);
      await disk.apply(b, grads, 1e-2);
    }
    expect(b.getParams()).toEqual(a.getParams());
    const [sm, sd] = [await mem.fullState(), await disk.fullState()];
    expect(sd.step).toBe(4);
    expect(sd.m).toEqual(sm.m);
    expect(sd.v).toEqual(sm.v);
    // a state written back reads back the same
    const again = new DiskOffloadAdamW(b.specs, o, dir);
    again.setState(sm);
    expect((await again.fullState()).v).toEqual(sm.v);
    // 8 bytes per parameter on disk, one chunk of m and v in memory; no file left in dir
    const total = a.specs.reduce((n, s) => n + sizeOf(s.shape), 0);
    const largest = Math.max(...a.specs.map((s) => sizeOf(s.shape)));
    expect(largest).toBeGreaterThan(100);
    expect(disk.footprint()).toEqual({ diskBytes: 8 * total, memoryBytes: 8 * 100 });
    expect(again.footprint().memoryBytes).toBe(8 * Math.min(largest, CHUNK));
    expect(readdirSync(dir)).toEqual([]);
    disk.close();
    again.close();
    a.dispose();
    b.dispose();
  });

  it('trains and resumes exactly as the run without it', async () => {
    const plain = (await runRanks(1, microCfg(join(tmp, 'plain'), { steps: 6 })))[0]!;
    const cfg = microCfg(join(tmp, 'disk'), { steps: 6, offload: 'disk', offloadDir: tmp, checkpointEvery: 3 });
    const [first] = (await runRanks(1, cfg, stopAfter(3))) as [TrainResult];
    const [second] = (await runRanks(1, cfg, { resume: true })) as [TrainResult];
    expect([...first.losses, ...second.losses]).toEqual(plain.losses);
    expect(second.paramsSha256).toBe(plain.paramsSha256);
  });

  it('the memory planner counts one chunk of moments with it, all of them without', () => {
    const cfg = gptConfig(GPT_PRESETS.tiny);
    const sizes = paramSpecs(cfg).map((p) => sizeOf(p.shape));
    const shape = { rows: 8, seqLen: 128, worldSize: 1, zero: false };
    expect(memoryPlan(cfg, shape).plain.moments).toBe(8 * sizes.reduce((a, b) => a + b, 0));
    expect(memoryPlan(cfg, { ...shape, offloadDisk: true }).plain.moments).toBe(
      8 * Math.min(CHUNK, Math.max(...sizes)),
    );
  });

  it('refuses zero', async () => {
    await expect(runRanks(1, microCfg(join(tmp, 'zero'), { offload: 'disk', zero: true }))).rejects.toThrow(
      /offload 'disk'.*does not combine with zero/,
    );
  });
});
