// trainer.allReduceDtype bf16: the data-parallel gradient travels as bf16 (src/runtime/collectives/
// bf16-wire.ts). Two ranks (memoryGroup, the ring over in-memory links) of the `micro` preset for 10
// steps: both ranks end bit-identical, the mean gradient every rank gets is bf16-valued (the low 16
// bits of each float32 are zero), and the losses stay within 2e-3 of the f32 all-reduce's while
// differing from them. The option enters the config hash (a bf16 run resumes only as bf16); f32 keeps
// the hash of a config written before the option existed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { memoryGroup } from '../../../src/runtime/collectives/memory-transport.ts';
import { TrainReplica } from '../../../src/nn/train/replica.ts';
import { configHash, trainConfig } from '../../../src/nn/train/train-config.ts';
import type { PackedBatch } from '../../../src/nn/objective/loss.ts';
import type { TrainResult } from '../../../src/nn/train/trainer.ts';
import { dataFor, microCfg, runRanks } from './micro-run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-ar-dtype-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const TOL = 2e-3; // measured: at most 2.5e-4 over the 10 steps

let f32: TrainResult[], bf16: TrainResult[];
beforeAll(async () => {
  await initBackend({ announce: false });
  f32 = await runRanks(2, microCfg(join(tmp, 'f32')));
  bf16 = await runRanks(2, microCfg(join(tmp, 'bf16'), { allReduceDtype: 'bf16' }));
}, 120_000);

describe('trainer.allReduceDtype', () => {
  it('bf16: ranks bit-identical, losses within 2e-3 of the f32 all-reduce and not equal to them', () => {
    const [a0, a1] = f32 as [TrainResult, TrainResult];
    const [b0, b1] = bf16 as [TrainResult, TrainResult];
    expect(b0.losses).toHaveLength(10);
    expect(b1.losses).toEqual(b0.losses);
    expect(b1.paramsSha256).toBe(b0.paramsSha256);
    expect(a1.paramsSha256).toBe(a0.paramsSha256);
    const diffs = b0.losses.map((l, i) => Math.abs(l - a0.losses[i]!));
    console.log(`bf16 all-reduce: loss diffs vs f32 ${JSON.stringify(diffs)}`);
    expect(diffs[0]).toBe(0); // the first step's loss comes before any all-reduce
    expect(Math.max(...diffs)).toBeGreaterThan(0);
    expect(Math.max(...diffs)).toBeLessThan(TOL);
    expect(b0.losses.at(-1)!).toBeLessThan(b0.losses[0]! - 0.5); // it still learns
    expect(b0.paramsSha256).not.toBe(a0.paramsSha256);
  });

  it('hands every rank the mean gradient as bf16 values', async () => {
    for (const dtype of ['f32', 'bf16'] as const) {
      const cfg = microCfg(join(tmp, `grad-${dtype}`), { allReduceDtype: dtype });
      const group = memoryGroup(2);
      const reps = await Promise.all(
        group.map((collective, rank) => TrainReplica.open(cfg, { dist: { rank, worldSize: 2, collective } })),
      );
      try {
        const batches = await Promise.all(
          reps.map(async (_, rank) => {
            const it = dataFor(rank, 2).train(null)[Symbol.asyncIterator]();
            return ((await it.next()).value as { batch: PackedBatch }).batch;
          }),
        );
        const grads = await Promise.all(reps.map((r, k) => r.allReduce(r.forwardBackward([batches[k]!]))));
        const low = (a: Float32Array) =>
          new Uint32Array(a.buffer, a.byteOffset, a.length).filter((x) => (x & 0xffff) !== 0).length;
        const g0 = grads[0]!.flat,
          g1 = grads[1]!.flat;
        expect(new Uint32Array(g1.buffer)).toEqual(new Uint32Array(g0.buffer));
        if (dtype === 'bf16') expect(low(g0)).toBe(0);
        else expect(low(g0)).toBeGreaterThan(g0.length / 2);
      } finally {
        for (const r of reps) r.dispose();
      }
    }
  }, 60_000);

  it('enters the config hash only as bf16; checkpointDtype never does', () => {
    const base = { runDir: 'x', preset: 'micro' as const, data: { train: 'unused' }, steps: 10 };
    const h = configHash(trainConfig(base), 2);
    expect(configHash(trainConfig({ ...base, allReduceDtype: 'f32' }), 2)).toBe(h);
    expect(configHash(trainConfig({ ...base, checkpointDtype: 'bf16' }), 2)).toBe(h);
    expect(configHash(trainConfig({ ...base, allReduceDtype: 'bf16' }), 2)).not.toBe(h);
    expect(() => trainConfig({ ...base, allReduceDtype: 'f16' as 'bf16' })).toThrow(/allReduceDtype/);
    expect(() => trainConfig({ ...base, checkpointDtype: 'f64' as 'f32' })).toThrow(/checkpointDtype/);
  });
});
