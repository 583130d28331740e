// Failure and recovery of a multi-process run (issue 6): `flowlm train` as 2 processes meeting over
// loopback sockets (--rank/--world-size/--master). SIGKILL of rank 1 mid-run makes rank 0 stop within
// seconds with an error naming rank 1; `--resume` (here on 2 worker threads, --devices cpu:2) then
// continues from the last checkpoint with exactly the losses of an uninterrupted 2-thread run, which
// also shows that the process and thread transports train identically.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/scheduler/launch-processes.ts';
import { flowlm, lastJson, start } from '../cli/spawn.ts';
import { SUBSET_INPUTS } from './prep-subset.ts';
import { latestStep, trainLosses } from './run-files.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-ddp-kill-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const prep = join(tmp, 'prep');

const STEPS = 8;
const SETS = [
  'model.preset="micro"',
  'model.vocabSize=50257',
  'model.dModel=16',
  'model.nHead=2',
  'model.dropout=0',
  `data.dir=${prep}`,
  'data.seqLen=32',
  'data.holdoutRows=16',
  'trainer.batchSize=4',
  `trainer.steps=${STEPS}`,
  'trainer.checkpointEvery=2',
  'trainer.evalEvery=0',
  'trainer.evalBatches=2',
  'trainer.keepLast=5',
  'optimizer.lr.warmupSteps=2',
  'optimizer.lr.max=3e-3',
];
const args = (runDir: string, ...more: string[]) => [
  'train',
  'pipelines/train-tiny.ts',
  ...[...SETS, `trainer.runDir=${runDir}`].flatMap((s) => ['--set', s]),
  ...more,
];

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

describe('multi-process training', () => {
  it('stops within seconds naming the killed rank, and --resume continues from the last checkpoint', async () => {
    const full = join(tmp, 'full');
    const a = await flowlm(args(full, '--devices', 'cpu:2', '--json'));
    expect(a.code, a.stderr).toBe(0);
    expect(lastJson(a.stdout)).toMatchObject({ ok: true, step: STEPS, worldSize: 2 });
    const lossesA = trainLosses(full);
    expect(lossesA.size).toBe(STEPS);

    const cut = join(tmp, 'cut');
    const master = `127.0.0.1:${await freePort()}`;
    const r0 = start(args(cut, '--rank', '0', '--world-size', '2', '--master', master));
    const r1 = start(args(cut, '--rank', '1', '--world-size', '2', '--master', master));
    // after the step-2 checkpoint, a step or two into the next stretch: rank 1 is in the middle of work
    await r0.until(() => /checkpoint \S*step-000002/.test(r0.stderr()) && /^step 3\//m.test(r0.stderr()), 90_000);
    const killedAt = performance.now();
    r1.child.kill('SIGKILL');
    expect((await r1.done).signal).toBe('SIGKILL');
    const d0 = await r0.done;
    const stopMs = performance.now() - killedAt;
    expect(d0.code, d0.stderr).toBe(1);
    expect(d0.stderr).toMatch(/rank 1\b.*(lost|failed)/);
    expect(stopMs).toBeLessThan(10_000);
    console.info(
      `rank 0 exited ${Math.round(stopMs)} ms after rank 1 was killed: ${d0.stderr.trim().split('\n').at(-1)}`,
    );
    const checkpointed = latestStep(cut);
    expect(checkpointed).toBeGreaterThanOrEqual(2);
    expect(checkpointed).toBeLessThan(STEPS);

    const c = await flowlm(args(cut, '--devices', 'cpu:2', '--resume', '--json'));
    expect(c.code, c.stderr).toBe(0);
    expect(lastJson(c.stdout)).toMatchObject({
      ok: true,
      step: STEPS,
      startStep: checkpointed,
      stepsRun: STEPS - checkpointed,
    });
    // the steps after the checkpoint, as the uninterrupted run had them (processes before the kill,
    // threads after it: the same numbers)
    expect([...trainLosses(cut).entries()]).toEqual([...lossesA.entries()]);
  }, 240_000);
});
