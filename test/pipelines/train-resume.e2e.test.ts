// Resume acceptance (issue 5): `flowlm train` for 10 steps uninterrupted, against 5 steps, SIGKILL right
// after the step-5 checkpoint, `--resume`, 5 more steps (past the 3-step warmup, into the decay): the
// same loss at every step (exact), and the same parameters at the end (checksums of the step-10
// checkpoints' tensor files). Dropout is on, so the RNG state must come back too, and the data stream
// must continue from its cursor.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowlm, lastJson, start } from '../cli/spawn.ts';
import { SUBSET_INPUTS } from './prep-subset.ts';
import { latestStep, trainLosses } from './run-files.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-train-resume-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const prep = join(tmp, 'prep');

// micro shape (d_model 16) with GPT-2's vocabulary, short rows: a step takes well under a second
const SETS = [
  'model.preset="micro"',
  'model.vocabSize=50257',
  'model.dModel=16',
  'model.nHead=2',
  'model.dropout=0.1',
  `data.dir=${prep}`,
  'data.seqLen=32',
  'data.holdoutRows=16',
  'trainer.batchSize=4',
  'trainer.steps=10',
  'trainer.checkpointEvery=5',
  'trainer.evalEvery=5',
  'trainer.evalBatches=2',
  'trainer.keepLast=5',
  'optimizer.lr.warmupSteps=3',
  'optimizer.lr.max=3e-3',
];
const args = (runDir: string, ...more: string[]) => [
  'train',
  'pipelines/train-tiny.ts',
  ...[...SETS, `trainer.runDir=${runDir}`].flatMap((s) => ['--set', s]),
  ...more,
];
const env = { FLOWLM_HEAD_THREAD: '0' };

const fileSums = (stepDir: string) =>
  (JSON.parse(readFileSync(join(stepDir, 'state.json'), 'utf8')) as { files: Record<string, { sha256: string }> })
    .files;

beforeAll(async () => {
  const r = await flowlm([
    'prep',
    ...SUBSET_INPUTS.flatMap((i) => ['--input', i]),
    '--out',
    prep,
    '--encoding',
    'gpt2',
    '--seq-len',
    '64',
    '--workers',
    '0',
  ]);
  expect(r.code, r.stderr).toBe(0);
}, 60_000);

describe('flowlm train resume', () => {
  it('continues after SIGKILL with the identical losses and parameters of an uninterrupted run', async () => {
    // the uninterrupted run and the one to be killed side by side (a core each)
    const full = join(tmp, 'full');
    const cut = join(tmp, 'cut');
    const fullRun = flowlm(args(full, '--json'), { env });
    const b = start(args(cut), { env });
    await b.until(() => /checkpoint \S*step-000005/.test(b.stderr()), 60_000);
    b.child.kill('SIGKILL');
    const killed = await b.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(latestStep(cut)).toBe(5);
    expect(trainLosses(cut).size).toBeLessThan(10);

    const a = await fullRun;
    expect(a.code, a.stderr).toBe(0);
    const sa = lastJson(a.stdout);
    expect(sa).toMatchObject({ ok: true, step: 10, startStep: 0, stepsRun: 10 });
    const lossesA = trainLosses(full);
    expect([...lossesA.keys()]).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    // it learns: not a constant function of the step
    expect(lossesA.get(10)!).toBeLessThan(lossesA.get(1)!);

    const c = await flowlm(args(cut, '--resume', '--json'), { env });
    expect(c.code, c.stderr).toBe(0);
    expect(lastJson(c.stdout)).toMatchObject({ ok: true, step: 10, startStep: 5, stepsRun: 5 });
    const lossesB = trainLosses(cut);
    expect([...lossesB.entries()]).toEqual([...lossesA.entries()]);
    expect(fileSums(join(cut, 'step-000010'))).toEqual(fileSums(join(full, 'step-000010')));
    expect(lastJson(c.stdout).val).toEqual(sa.val);
  }, 120_000);

  it('refuses to resume under a different config', async () => {
    const r = await flowlm(args(join(tmp, 'full'), '--resume', '--set', 'optimizer.lr.max=1e-3'), { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/config hash/);
  }, 60_000);
});
