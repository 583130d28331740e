// trainer.checkpointDtype: a bf16 run trains exactly as an f32 one (storage only), its checkpoints hold
// the weights rounded to bf16 (about half of params.arrow) and the moments exactly as f32 does, every
// reader (loadCheckpoint, loadModel for generate/eval/export) gets the rounded weights as float32, and
// a resume is what the docs say: the rounded weights with exact moments, step and data position, so
// the continued losses are close to, and not identical with, the uninterrupted run's.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { loadCheckpoint, type NamedTensors } from '../../../src/nn/checkpoint/index.ts';
import { fromHalf, toHalf } from '../../../src/nn/checkpoint/half-precision.ts';
import { loadModel } from '../../../src/nn/checkpoint/load-model.ts';
import { stepDirName } from '../../../src/nn/checkpoint/layout.ts';
import { TrainReplica } from '../../../src/nn/train/replica.ts';
import { configHash } from '../../../src/nn/train/train-config.ts';
import type { TrainResult } from '../../../src/nn/train/trainer.ts';
import { microCfg, runRanks, stopAfter } from './micro-run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-ck-dtype-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const STEPS = 6;
const cfg = (name: string, checkpointDtype: 'f32' | 'bf16') =>
  microCfg(join(tmp, name), { steps: STEPS, checkpointEvery: 3, checkpointDtype });

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const sameBits = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && bits(a).every((x, i) => x === bits(b)[i]);
const roundBf16 = (a: Float32Array) => fromHalf('bf16', toHalf('bf16', a));
/** names of tensors in `got` whose values are not `want`'s (mapped by `f`) bit for bit */
const mismatches = (got: Map<string, Float32Array>, want: NamedTensors, f = (a: Float32Array) => a) =>
  [...want].filter(([n, t]) => !got.has(n) || !sameBits(got.get(n)!, f(t.values))).map(([n]) => n);
const values = (m: NamedTensors) => new Map([...m].map(([n, t]) => [n, t.values]));

let f32: TrainResult, bf16: TrainResult;
beforeAll(async () => {
  await initBackend({ announce: false });
  [f32] = (await runRanks(1, cfg('f32', 'f32'))) as [TrainResult];
  [bf16] = (await runRanks(1, cfg('bf16', 'bf16'))) as [TrainResult];
}, 120_000);

describe('trainer.checkpointDtype', () => {
  it('changes storage only: the same losses, weights and config hash as the f32 run', () => {
    expect(bf16.losses).toEqual(f32.losses);
    expect(bf16.paramsSha256).toBe(f32.paramsSha256);
    expect(bf16.configHash).toBe(f32.configHash);
    expect(configHash(cfg('x', 'bf16'))).toBe(configHash(cfg('x', 'f32')));
  });

  it('stores the weights rounded to bf16 in about half the bytes, the moments byte for byte as f32', async () => {
    const a = await loadCheckpoint(f32.checkpoint!);
    const b = await loadCheckpoint(bf16.checkpoint!);
    expect(b.step).toBe(STEPS);
    expect(mismatches(values(b.params), a.params, roundBf16)).toEqual([]);
    expect(mismatches(values(b.params), a.params)).not.toEqual([]); // rounded, not f32 kept
    const size = (dir: string, f: string) => statSync(join(dir, f)).size;
    const ratio = size(b.dir, 'params.arrow') / size(a.dir, 'params.arrow');
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(0.52);
    expect(size(b.dir, 'optimizer.arrow')).toBe(size(a.dir, 'optimizer.arrow'));
    expect(mismatches(values(b.optimizer.m), a.optimizer.m)).toEqual([]);
    expect(mismatches(values(b.optimizer.v), a.optimizer.v)).toEqual([]);
    // generate, eval and export load through loadModel / loadCheckpoint: float32 rounded weights
    const { model } = await loadModel(bf16.checkpoint!);
    expect(mismatches(model.getParams(), a.params, roundBf16)).toEqual([]);
    model.dispose();
  });

  it('resumes from the rounded weights with exact moments, step and data position: close, not identical', async () => {
    const c = cfg('resume', 'bf16');
    const [first] = (await runRanks(1, c, stopAfter(3))) as [TrainResult];
    expect(first).toMatchObject({ stopped: true, step: 3 });
    // the uninterrupted f32 run's checkpoint of the same step: what the resumed replica must hold
    const ref = await loadCheckpoint(join(tmp, 'f32', stepDirName(3)));
    const rep = await TrainReplica.open(c, { resume: true });
    try {
      expect(rep.step).toBe(3);
      expect(rep.cursor).toEqual(ref.state.dataCursor);
      expect(mismatches(rep.model.getParams(), ref.params, roundBf16)).toEqual([]);
      const st = await rep.optimizer.fullState();
      expect(st.step).toBe(3);
      expect(mismatches(st.m, ref.optimizer.m)).toEqual([]);
      expect(mismatches(st.v, ref.optimizer.v)).toEqual([]);
    } finally {
      rep.dispose();
    }
    const [second] = (await runRanks(1, c, { resume: true })) as [TrainResult];
    expect(second).toMatchObject({ ok: true, startStep: 3, step: STEPS });
    const resumed = [...first.losses, ...second.losses];
    expect(resumed.slice(0, 3)).toEqual(f32.losses.slice(0, 3));
    const diffs = resumed.map((l, i) => Math.abs(l - f32.losses[i]!));
    console.log(`bf16-checkpoint resume: loss diffs vs uninterrupted ${JSON.stringify(diffs)}`);
    expect(Math.max(...diffs)).toBeGreaterThan(0); // the rounding is there
    expect(Math.max(...diffs)).toBeLessThan(1e-2);
  }, 120_000);
});
