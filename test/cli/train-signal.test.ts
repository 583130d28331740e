// SIGINT to `flowlm train`: the step under way finishes, a checkpoint of it is written, the process
// exits 130, and `--resume` continues from that step to the end with every step's metrics exactly once.
// (Bit-for-bit continuation after a SIGKILL: test/pipelines/train-resume.e2e.test.ts.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTrainShards } from '../fixtures/train-shards.ts';
import { flowlm, lastJson, start } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-train-signal-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const shards = join(tmp, 'shards');
const STEPS = 12;
const SETS = [
  'model.preset="micro"',
  'model.vocabSize=50257',
  'model.dModel=32',
  'model.nHead=2',
  `data.dir=${shards}`,
  'data.seqLen=24',
  'data.holdoutRows=16',
  'trainer.batchSize=4',
  `trainer.steps=${STEPS}`,
  'trainer.checkpointEvery=100',
  'trainer.evalEvery=0',
  'trainer.evalBatches=2',
  'optimizer.lr.warmupSteps=2',
  'optimizer.lr.max=3e-3',
];
const args = (runDir: string, ...more: string[]) => [
  'train',
  'pipelines/train-tiny.ts',
  ...[...SETS, `trainer.runDir=${runDir}`].flatMap((s) => ['--set', s]),
  ...more,
];
const env = { FLOWLM_HEAD_THREAD: '0' };

/** Steps of the train-loss rows of a run's metrics.jsonl, in file order. */
const lossSteps = (runDir: string) =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { step: number; split: string; name: string })
    .filter((r) => r.split === 'train' && r.name === 'loss')
    .map((r) => r.step);
const latestStep = (runDir: string) =>
  (JSON.parse(readFileSync(join(runDir, 'latest.json'), 'utf8')) as { step: number }).step;

beforeAll(async () => {
  await writeTrainShards(shards, 4, 32, 64);
}, 60_000);

describe('flowlm train and SIGINT', () => {
  it('stops after the current step with a checkpoint, exits 130, and --resume continues to the end', async () => {
    const dir = join(tmp, 'run');
    const run = start(args(dir), { env });
    await run.until(() => /step 2\/12/.test(run.stderr()), 60_000);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: stopping after this step/);
    const stoppedAt = latestStep(dir);
    // the step under way when the signal came finished (and maybe one more began before it was seen)
    expect(stoppedAt).toBeGreaterThanOrEqual(2);
    expect(stoppedAt).toBeLessThan(STEPS);
    expect(r.stderr).toMatch(new RegExp(`checkpoint \\S*step-0*${stoppedAt}\\b`));
    expect(lossSteps(dir)).toEqual(Array.from({ length: stoppedAt }, (_, i) => i + 1));

    const resumed = await flowlm(args(dir, '--resume', '--json'), { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(lastJson(resumed.stdout)).toMatchObject({
      ok: true,
      stopped: false,
      startStep: stoppedAt,
      step: STEPS,
      stepsRun: STEPS - stoppedAt,
    });
    expect(resumed.stderr).toMatch(new RegExp(`resumed from \\S*step-0*${stoppedAt}\\b`));
    expect(lossSteps(dir)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect(latestStep(dir)).toBe(STEPS);
  }, 120_000);
});
