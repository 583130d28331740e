// `flowlm train --time-limit S`: a training-time budget. The run stops after the step in progress when
// the time is up, checkpoints and evaluates as on SIGTERM, and exits 0 (a reached budget is a normal
// end), recorded as a finished run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/runs/store.ts';
import { writeTrainShards } from '../fixtures/train-shards.ts';
import { flowlm, lastJson } from './spawn.ts';
import { microTrainSets } from '../fixtures/micro-train-sets.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-time-limit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('flowlm train --time-limit', () => {
  it('stops after the budget with a checkpoint and the final validation, exit 0, run finished', async () => {
    const shards = join(tmp, 'shards');
    await writeTrainShards(shards, 4, 32, 64);
    const store = join(tmp, 'runs.sqlite');
    const runDir = join(tmp, 'run');
    const r = await flowlm([
      'train',
      'pipelines/train-tiny.ts',
      '--devices',
      'cpu:1',
      '--time-limit',
      '3',
      '--json',
      '--store',
      store,
      ...[
        ...microTrainSets(shards),
        'trainer.steps=1000000',
        'trainer.evalEvery=0',
        'trainer.evalBatches=1',
        'trainer.checkpointEvery=1000000',
        `trainer.runDir=${runDir}`,
      ].flatMap((s) => ['--set', s]),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('--time-limit 3 s reached');
    const s = lastJson(r.stdout) as { step: number; stopped: boolean; checkpoint: string; val: { loss: number } };
    expect(s.stopped).toBe(true);
    expect(s.step).toBeGreaterThan(0);
    expect(s.step).toBeLessThan(1_000_000);
    expect(s.checkpoint).toBe(join(runDir, `step-${String(s.step).padStart(6, '0')}`));
    expect(Number.isFinite(s.val.loss)).toBe(true);
    const db = RunStore.open(store);
    try {
      const [run] = db.runs({ command: 'train' });
      expect(run!.status).toBe('finished');
      expect(db.metrics(run!.id, 'val/loss').map((p) => p.step)).toEqual([s.step]);
    } finally {
      db.close();
    }
    const bad = await flowlm(['train', 'pipelines/train-tiny.ts', '--time-limit', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--time-limit expects seconds > 0');
  }, 60_000);
});
