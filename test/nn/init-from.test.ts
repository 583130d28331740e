// `init.from`: a run starts from another run's weights (a step directory, or a run directory's latest
// checkpoint) with a fresh optimizer and schedule (step 0, zero moments, warm-up from its start, data
// from the beginning); a model of another shape, or one missing a parameter, is refused naming the
// parameter; a resumed run continues from its own checkpoint, not the one it started from; and
// init.from is part of the config hash.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { loadCheckpoint, valuesOf } from '../../src/nn/checkpoint/index.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import { TrainReplica } from '../../src/nn/train/replica.ts';
import { configHash, trainConfig, type TrainConfigInput } from '../../src/nn/train/train-config.ts';
import { Rng } from '../../src/runtime/rng.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-init-from-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ announce: false });
});

const model = { vocabSize: 64, contextLength: 8, nLayer: 2, nHead: 2, dModel: 16 };
const cfg = (runDir: string, more: Partial<TrainConfigInput> = {}) =>
  trainConfig({
    runDir: join(tmp, runDir),
    model,
    data: { train: 'unused' },
    batchSize: 2,
    steps: 10,
    lr: { max: 1e-2, min: 1e-3, warmupSteps: 4 },
    ...more,
  });
const batchAt = (step: number): PackedBatch => {
  const r = new Rng(1000 + step);
  return { inputIds: Int32Array.from({ length: 2 * 9 }, () => r.below(64)), batch: 2, seqLen: 8 };
};

/** `steps` optimizer steps on a replica, then a checkpoint; returns its directory. */
async function trainSteps(rep: TrainReplica, steps: number): Promise<string> {
  for (let s = 0; s < steps; s++) {
    const g = await rep.allReduce(rep.forwardBackward([batchAt(rep.step)]));
    await rep.optimizerStep(g, { row: rep.step + 1 });
  }
  return (await rep.checkpoint())!;
}

const equalParams = (a: Map<string, Float32Array>, b: Map<string, Float32Array>) => {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [n, v] of a)
    expect(
      Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(
        Buffer.from(b.get(n)!.buffer, b.get(n)!.byteOffset, b.get(n)!.byteLength),
      ),
      n,
    ).toBe(true);
};

describe('init.from', () => {
  let sourceStep: string;
  beforeAll(async () => {
    const src = await TrainReplica.open(cfg('source', { seed: 1 }));
    sourceStep = await trainSteps(src, 3);
    src.dispose();
  });

  it.each([
    ['a step directory', () => sourceStep],
    ['a run directory (its latest)', () => join(tmp, 'source')],
  ])(
    "from %s: the checkpoint's weights at step 0, with a fresh optimizer, schedule and data position",
    async (_label, from) => {
      const logs: string[] = [];
      const rep = await TrainReplica.open(cfg(`fine-${_label.length}`, { seed: 2, init: { from: from() } }), {
        log: (l) => logs.push(l),
      });
      try {
        const ck = await loadCheckpoint(sourceStep);
        expect(ck.optimizer.step).toBe(3);
        equalParams(rep.model.getParams(), valuesOf(ck.params));
        expect(rep.step).toBe(0);
        expect(rep.cursor).toBeNull();
        const st = await rep.optimizer.fullState();
        expect(st.step).toBe(0);
        for (const m of [...st.m.values(), ...st.v.values()]) expect(m.every((x) => x === 0)).toBe(true);
        expect(rep.lrAt(rep.step)).toBeCloseTo(1e-2 / 4, 12); // the first warm-up step's rate
        // the first update is AdamW's first step from the checkpoint's weights: bias correction at t = 1
        const r = await rep.optimizerStep(await rep.allReduce(rep.forwardBackward([batchAt(0)])), { row: 1 });
        expect(r).toMatchObject({ step: 1, lr: 1e-2 / 4 });
        expect((await rep.optimizer.fullState()).step).toBe(1);
        expect(logs.join('\n')).toMatch(/initialised from .*step-000003 \(its step 3\)/);
      } finally {
        rep.dispose();
      }
    },
  );

  it('refuses a model of another shape, naming the parameter and both shapes', async () => {
    await expect(
      TrainReplica.open(cfg('wider', { init: { from: sourceStep }, model: { ...model, mlpRatio: 2 } })),
    ).rejects.toThrow(
      /init\.from .*step-000003: parameter h\.0\.mlp\.c_fc\.weight has shape \[16,64\] in the checkpoint, \[16,32\] in this model/,
    );
  });

  it('refuses a model with a parameter the checkpoint lacks, and one without a parameter the checkpoint has', async () => {
    await expect(
      TrainReplica.open(cfg('gated', { init: { from: sourceStep }, model: { ...model, activation: 'swiglu' } })),
    ).rejects.toThrow(/parameter h\.0\.mlp\.c_gate\.weight of this model is missing from the checkpoint/);
    await expect(
      TrainReplica.open(cfg('shallow', { init: { from: sourceStep }, model: { ...model, nLayer: 1 } })),
    ).rejects.toThrow(/the checkpoint has parameter h\.1\.ln_1\.weight, which this model does not/);
    await expect(TrainReplica.open(cfg('nowhere', { init: { from: join(tmp, 'no-such-run') } }))).rejects.toThrow(
      /init\.from .*no-such-run.*does not exist/,
    );
  });

  it('a resumed run continues from its own checkpoint, not the one it was initialised from', async () => {
    const c = cfg('resumed', { seed: 3, init: { from: sourceStep } });
    const first = await TrainReplica.open(c);
    const own = await trainSteps(first, 2);
    const expected = first.model.getParams();
    first.dispose();
    const again = await TrainReplica.open(c, { resume: true });
    try {
      expect(again.step).toBe(2);
      expect(again.cursor).toEqual({ row: 2 });
      equalParams(again.model.getParams(), expected);
      equalParams(again.model.getParams(), valuesOf((await loadCheckpoint(own)).params));
      expect((await again.optimizer.fullState()).step).toBe(2);
    } finally {
      again.dispose();
    }
    // init.from shapes the trajectory: resuming under another one (or none) is refused by the hash
    await expect(TrainReplica.open({ ...c, init: {} }, { resume: true })).rejects.toThrow(/config hash/);
  });

  it('is part of the config hash', () => {
    const plain = cfg('h');
    expect(configHash(cfg('h', { init: { from: 'runs/a' } }))).not.toBe(configHash(plain));
    expect(configHash(cfg('h', { init: { from: 'runs/a' } }))).not.toBe(
      configHash(cfg('h', { init: { from: 'runs/b' } })),
    );
    expect(configHash(cfg('h', { init: {} }))).toBe(configHash(plain));
  });
});
