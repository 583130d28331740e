// Every `flowlm train` (run, prep, eval, tune) is a run in the store (src/runs/record-command.ts): a real
// short training records its params from --set, the resolved config and its hash, the git commit, the
// environment, the run directory, the metrics of metrics.jsonl row for row and its checkpoints (those
// keepLast kept); a command that fails records the error; a training SIGKILLed mid-run is failed the next
// time the store is opened; `--store PATH` picks the store and never reaches the command.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitStatus, setParams } from '../../src/runs/record-command.ts';
import { storePath, takeStoreFlag } from '../../src/runs/store-path.ts';
import { RunStore } from '../../src/runs/store.ts';
import { writeTrainShards } from '../fixtures/train-shards.ts';
import { flowlm, ROOT, spec, start } from '../cli/spawn.ts';
import { microTrainSets } from '../fixtures/micro-train-sets.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-record-'));
const shards = join(tmp, 'shards');
beforeAll(() => writeTrainShards(shards, 4, 32, 64));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const trainSets = (runDir: string, steps: number) => [
  ...microTrainSets(shards),
  `trainer.steps=${steps}`,
  'trainer.evalEvery=0',
  'trainer.checkpointEvery=2',
  'trainer.keepLast=2',
  `trainer.runDir=${runDir}`,
];
const trainArgs = (runDir: string, steps: number) => [
  'train',
  'pipelines/train-tiny.ts',
  '--devices',
  'cpu:1',
  ...trainSets(runDir, steps).flatMap((s) => ['--set', s]),
];

describe.concurrent('recording a command as a run', () => {
  it('records a real flowlm train: params, config, git, env, run dir, metrics and checkpoints', async () => {
    const store = join(tmp, 'train.sqlite');
    const runDir = join(tmp, 'run');
    const args = trainArgs(runDir, 6);
    // --store in the middle of the command line: taken out before the command parses it
    const r = await flowlm([...args.slice(0, 4), '--store', store, ...args.slice(4)]);
    expect(r.code, r.stderr).toBe(0);

    const s = RunStore.open(store, { readonly: true });
    const runs = s.runs();
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run).toMatchObject({
      name: 'train train-tiny',
      command: 'train',
      status: 'finished',
      error: null,
      runDir,
      argv: args.slice(1),
    });
    expect(run.endedAt).toBeGreaterThanOrEqual(run.startedAt);
    expect(s.params(run.id)).toEqual({
      file: 'pipelines/train-tiny.ts',
      'model.preset': 'micro',
      'model.vocabSize': 50257,
      'model.contextLength': 32,
      'model.dModel': 32,
      'data.dir': shards,
      'data.seqLen': 16,
      'data.holdoutRows': 16,
      'trainer.steps': 6,
      'trainer.evalEvery': 0,
      'trainer.checkpointEvery': 2,
      'trainer.keepLast': 2,
      'trainer.runDir': runDir,
    });
    // the trainer's resolved config, with the --set values in it
    expect(run.config).toMatchObject({ runDir, steps: 6, model: { dModel: 32, contextLength: 32 } });
    expect(run.configHash).toMatch(/^[0-9a-f]{8,}$/);
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    expect(run.git.commit).toBe(head);
    expect(typeof run.git.dirty).toBe('boolean');
    expect(run.env).toMatchObject({ node: process.version, platform: process.platform, arch: process.arch });

    // the metrics are metrics.jsonl's rows, every one of them
    const log = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { step: number; split: string; name: string; value: number; time: number });
    const loss = log.filter((l) => l.split === 'train' && l.name === 'loss');
    expect(loss).toHaveLength(6);
    expect(s.metrics(run.id, 'train/loss').map((p) => [p.step, p.value, p.time])).toEqual(
      loss.map((l) => [l.step, l.value, l.time]),
    );
    expect(s.metrics(run.id)).toHaveLength(log.length);
    expect(s.metricKeys(run.id)).toEqual([...new Set(log.map((l) => `${l.split}/${l.name}`))].sort());

    // checkpoints 2, 4, 6 were written and keepLast=2 pruned the first
    const arts = s.artifacts(run.id);
    expect(arts.map((a) => [a.path, a.kind])).toEqual([
      [join(runDir, 'step-000004'), 'checkpoint'],
      [join(runDir, 'step-000006'), 'checkpoint'],
    ]);
    expect(arts.every((a) => existsSync(a.path))).toBe(true);
    expect(existsSync(join(runDir, 'step-000002'))).toBe(false);
    s.close();

    // and it went to --store, not to FLOWLM_STORE's store
    const other = process.env.FLOWLM_STORE!;
    if (existsSync(other)) {
      const o = RunStore.open(other, { readonly: true });
      expect(o.run(run.id)).toBeUndefined();
      o.close();
    }
  }, 60_000);

  it('records a command that fails on a bad spec as failed, with the error', async () => {
    const store = join(tmp, 'bad.sqlite');
    const r = await flowlm(['run', spec('invalid-graph.json'), '--set', 'a.form="NFC"'], {
      env: { FLOWLM_STORE: store },
    });
    expect(r.code).toBe(2);
    const s = RunStore.open(store, { readonly: true });
    const [run, ...more] = s.runs();
    expect(more).toEqual([]);
    expect(run).toMatchObject({ name: 'run invalid-graph', command: 'run', status: 'failed' });
    // the message whole, as printed: what is wrong and every problem
    expect(run!.error).toBe(r.stderr.trim());
    expect(run!.error).toMatch(/^invalid pipeline .*invalid-graph.json: 6 problems\n/);
    expect(run!.error).toContain('edges: cycle: c -> a -> c');
    expect(s.params(run!.id)).toEqual({ file: spec('invalid-graph.json'), 'a.form': 'NFC' });
    s.close();
  });

  it('leaves a flowlm train SIGKILLed mid-run failed once the store is opened again', async () => {
    const store = join(tmp, 'killed.sqlite');
    const runDir = join(tmp, 'killed-run');
    const child = start(trainArgs(runDir, 400), { env: { FLOWLM_STORE: store } });
    await child.until(() => /step 3\/400/.test(child.stderr()), 40_000);
    const pid = child.child.pid!;
    // while it trains: running, and its metrics arrive as they are logged
    const live = RunStore.open(store, { reap: false });
    const [running] = live.runs();
    expect(running).toMatchObject({ status: 'running', pid });
    expect(live.metrics(running!.id, 'train/loss').length).toBeGreaterThanOrEqual(2);
    live.close();
    child.child.kill('SIGKILL');
    expect((await child.done).signal).toBe('SIGKILL');

    const s = RunStore.open(store);
    expect(s.run(running!.id)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(new RegExp(`^interrupted \\(process ${pid} ended without finishing the run`)),
    });
    s.close();
  }, 60_000);

  it('runs the command unrecorded when the store cannot be opened, and says so', async () => {
    const r = await flowlm(['run', spec('invalid-graph.json')], { env: { FLOWLM_STORE: '/dev/null/runs.sqlite' } });
    // the command itself ran (and failed on its spec); the store's problem is a warning
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('edges: cycle: c -> a -> c');
    expect(r.stderr).toMatch(/run store \/dev\/null\/runs\.sqlite: .*this run is not recorded \(give a writable store/);
  });
});

describe('the command line of a recorded command', () => {
  it('takes --store PATH and --store=PATH out of argv, and leaves what follows --', () => {
    expect(takeStoreFlag(['a.ts', '--store', 's.db', '--json'])).toEqual({ argv: ['a.ts', '--json'], store: 's.db' });
    expect(takeStoreFlag(['--store=x/y.sqlite', 'a.ts'])).toEqual({ argv: ['a.ts'], store: 'x/y.sqlite' });
    expect(takeStoreFlag(['a.ts', '--', '--store', 's'])).toEqual({ argv: ['a.ts', '--', '--store', 's'] });
    expect(takeStoreFlag(['a.ts'])).toEqual({ argv: ['a.ts'] });
  });

  it('finds the store from the flag, else FLOWLM_STORE, else .flowlm/runs.sqlite', () => {
    expect(storePath('s.db', { FLOWLM_STORE: '/e.db' }, '/p')).toBe('/p/s.db');
    expect(storePath(undefined, { FLOWLM_STORE: '/e.db' }, '/p')).toBe('/e.db');
    expect(storePath(undefined, {}, '/p')).toBe('/p/.flowlm/runs.sqlite');
  });

  it('reads --set values as JSON when they parse, else as strings', () => {
    expect(setParams(['x.ts', '--set', 'a.b=1', '-s', 'c="q"', '--set=d=out/x.jsonl', '--set', 'e=[1,2]'])).toEqual({
      'a.b': 1,
      c: 'q',
      d: 'out/x.jsonl',
      e: [1, 2],
    });
    expect([0, 1, 2, 130, 143].map(exitStatus)).toEqual(['finished', 'failed', 'failed', 'killed', 'killed']);
  });
});
