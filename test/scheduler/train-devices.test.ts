// `flowlm train` placement: --devices and --rank/--world-size/--master, with the stand-in pipeline
// (test/fixtures/rank-pipeline.ts) so no model trains; usage errors are checked in process, the
// thread launch through the real executable.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { CliIO } from '../../src/cli/io.ts';
import { gpuBackend } from '../../src/scheduler/devices.ts';
import { flowlm, lastJson, start } from '../cli/spawn.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/rank-pipeline.ts', import.meta.url));
// on a GPU machine the no-backend path cannot happen; the device tests cover it with an injected probe
const backendOk = (await gpuBackend()).ok;

async function inProcess(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '',
    err = '';
  const io: CliIO = {
    out: (t) => {
      out += `${t}\n`;
    },
    err: (t) => {
      err += `${t}\n`;
    },
    stderr: process.stderr,
  };
  return { code: await main(argv, io), out, err };
}

describe('flowlm train --devices', () => {
  it.skipIf(backendOk)('gpu devices without tfjs-node-gpu: the clear no-backend message, exit 2', async () => {
    const r = await inProcess('train', FIXTURE, '--devices', 'gpu:all');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^flowlm: no GPU backend is available: @tensorflow\/tfjs-node-gpu is not installed/);
  });

  it('bad --devices and rank flags are usage errors naming the problem', async () => {
    const bad = await inProcess('train', FIXTURE, '--devices', 'cpu:many');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--devices expects auto, cpu:N/);
    const rank = await inProcess('train', FIXTURE, '--rank', '2', '--world-size', '2', '--master', '127.0.0.1:1');
    expect(rank.code).toBe(2);
    expect(rank.err).toMatch(/--rank 2 must be below --world-size 2/);
  });

  it('cpu:1 runs in this process; --json has devices and worldSize', async () => {
    const r = await inProcess('train', FIXTURE, '--devices', 'cpu:1', '--set', 'steps=2', '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(j).toMatchObject({ devices: ['cpu:0'], worldSize: 1, stepsRun: 2, firstLoss: 1, finalLoss: 1 });
  });

  it('cpu:2 runs two rank threads; a failing rank exits 1 naming it', async () => {
    const ok = await flowlm(['train', FIXTURE, '--devices', 'cpu:2', '--set', 'steps=2', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(lastJson(ok.stdout)).toMatchObject({
      devices: ['cpu:0', 'cpu:1'],
      worldSize: 2,
      firstLoss: 3,
      finalLoss: 3,
    });
    expect(ok.stderr).toMatch(/^step 2\/2 \| loss 3\.0000/m);
    const bad = await flowlm(['train', FIXTURE, '--devices', 'cpu:2', '--set', 'steps=5', '--set', 'fail=1']);
    expect(bad.code).toBe(1);
    // rank 1's own error, or rank 0's report of it when rank 0's all-reduce notices first (a race on a
    // loaded machine): either names rank 1 and its failure
    expect(bad.stderr).toMatch(
      /^flowlm train: training rank 1 of 2 failed(?: \(reported by rank 0\): CollectiveError: rank 1 failed)?: deliberate failure at step 2(?: during allReduce)?$/m,
    );
    expect(bad.stderr).not.toMatch(/internal error/);
  });

  it('--rank/--world-size: world size 1 needs no peers and reports its place', async () => {
    const r = await inProcess('train', FIXTURE, '--rank', '0', '--world-size', '1', '--set', 'steps=2', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out.trim().split('\n').at(-1)!)).toMatchObject({ worldSize: 1, stepsRun: 2 });
  });
});

describe('flowlm train --devices cpu:2: signals', () => {
  it('SIGINT reaches every rank thread: they stop after the same step, exit 130', async () => {
    const run = start(['train', FIXTURE, '--devices', 'cpu:2', '--set', 'untilStop=1', '--json']);
    await run.until(() => /^step 2\//m.test(run.stderr()));
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: stopping after this step/);
    const j = lastJson(r.stdout);
    expect(j).toMatchObject({ stopped: true, worldSize: 2, finalLoss: 3 });
    expect(j.stepsRun as number).toBeGreaterThanOrEqual(2);
  });
});
