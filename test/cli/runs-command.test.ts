// `flowlm runs ls|show|compare` on a store filled through the RunStore API (test/fixtures/runs-store.ts:
// known params and metrics, so every figure printed has a reference) and on a real short `flowlm train`:
// filters, the metric summaries, the comparison, and errors that say what to do (an unknown id lists the
// nearest ones). Export and rm: runs-export.test.ts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { A, B, C, checkpointDir, fillStore, ids, lossA, lossB, runsCli } from '../fixtures/runs-store.ts';
import { writeTrainShards } from '../fixtures/train-shards.ts';
import { flowlm } from './spawn.ts';
import { microTrainSets } from '../fixtures/micro-train-sets.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-runs-cmd-'));
const storeFile = join(tmp, 'runs.sqlite');
const ckDir = checkpointDir(tmp);
beforeAll(() => fillStore(storeFile, tmp));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cli = (args: string[], store: string | null = storeFile) => runsCli(args, store);

describe('flowlm runs ls', () => {
  it('lists the runs newest first, with status, duration, the params that differ and the final losses', async () => {
    const r = await cli(['ls']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^id\s+name\s+status\s+started\s+duration\s+params\s+train\/loss\s+val\/loss$/);
    expect(ids(r.out)).toEqual(['cccc4444', 'bbbb3333', 'aaaa2222', 'aaaa1111']);
    const a = lines.find((l) => l.startsWith('aaaa1111'))!;
    // 65 s, lr and preset differ between the runs (steps too: C and the trial have none), last losses
    expect(a).toMatch(/aaaa1111\s+train tiny\s+finished\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+1m05s\s+/);
    expect(a).toContain('lr=0.001 preset=micro steps=10');
    expect(a).toMatch(/\s2.5\s+4$/);
    expect(lines.find((l) => l.startsWith('aaaa2222'))).toMatch(/train small, "quoted"\s+failed/);
    expect(lines.find((l) => l.startsWith('bbbb3333'))).toMatch(/eval tiny\s+running\s+.*\+\s/);
  });

  it('filters by name, status, params, study and limit', async () => {
    const ls = async (...args: string[]) => {
      const r = await cli(['ls', ...args]);
      expect(r.code, r.err).toBe(0);
      return ids(r.out);
    };
    expect(await ls('--name', 'tiny')).toEqual(['bbbb3333', 'aaaa1111']);
    expect(await ls('--status', 'failed')).toEqual(['aaaa2222']);
    expect(await ls('--status', 'running')).toEqual(['bbbb3333']);
    expect(await ls('--param', 'lr=0.001')).toEqual(['bbbb3333', 'aaaa1111']);
    expect(await ls('--param', 'lr=1e-3', '--param', 'preset=micro')).toEqual(['aaaa1111']);
    expect(await ls('--study', 'sweep')).toEqual(['cccc4444']);
    expect(await ls('--limit', '2')).toEqual(['cccc4444', 'bbbb3333']);
    expect(await ls('--name', 'tiny', '--status', 'finished')).toEqual(['aaaa1111']);
    expect((await cli(['ls', '--name', 'nothing'])).out).toContain('no runs match');
    // no loss columns for runs without losses
    expect((await cli(['ls', '--status', 'running'])).out.split('\n')[0]).toMatch(
      /^id\s+name\s+status\s+started\s+duration\s+params$/,
    );
  });

  it('gives JSON with params and final losses (NaN as a string)', async () => {
    const r = await cli(['ls', '--json', '--name', 'train']);
    const rows = JSON.parse(r.out) as { id: string; params: unknown; final: Record<string, unknown> }[];
    expect(rows.map((x) => x.id)).toEqual([B, A]);
    expect(rows[1]).toMatchObject({
      status: 'finished',
      durationMs: 65000,
      params: { lr: 0.001, preset: 'micro', steps: 10 },
      final: { 'train/loss': lossA(10), 'val/loss': 4 },
    });
    expect(rows[0]!.final).toEqual({ 'train/loss': lossB(10), 'val/loss': 4.75 });
  });

  it('says what is wrong with a bad status, --param or study', async () => {
    const bad = await cli(['ls', '--status', 'done']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--status done: not a run status (running, finished, failed, killed, pruned)');
    expect((await cli(['ls', '--param', 'lr'])).err).toContain('give key=value');
    const study = await cli(['ls', '--study', 'nope']);
    expect(study.code).toBe(1);
    expect(study.err).toContain('no study "nope"');
    expect(study.err).toContain('studies: sweep');
  });
});

describe('flowlm runs show and compare', () => {
  it('shows a run: fields, params, metric keys with steps and last/min/max, artifacts', async () => {
    const r = await cli(['show', 'aaaa1']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^id\s+aaaa1111c0ffee00$/m);
    expect(r.out).toMatch(/^status\s+finished$/m);
    expect(r.out).toMatch(/^duration\s+1m05s$/m);
    expect(r.out).toContain('params (3)\n  lr = 0.001\n  preset = micro\n  steps = 10');
    expect(r.out).toMatch(/^\s+train\/loss\s+10\s+10\s+2.5\s+2.5\s+4.75$/m);
    expect(r.out).toMatch(/^\s+val\/loss\s+2\s+10\s+4\s+4\s+4.5$/m);
    expect(r.out).toContain(`checkpoint  ${ckDir}`);
    const b = await cli(['show', B]);
    expect(b.out).toMatch(/^error\s+out of memory$/m);
    // NaN at step 4: the count has it, min and max skip it
    expect(b.out).toMatch(/^\s+train\/loss\s+10\s+10\s+4.75\s+4.75\s+5.875$/m);
  });

  it('gives the summaries as JSON', async () => {
    const r = await cli(['show', A, '--json']);
    const j = JSON.parse(r.out) as { metrics: unknown[]; params: unknown; artifacts: unknown[] };
    expect(j.params).toEqual({ lr: 0.001, preset: 'micro', steps: 10 });
    expect(j.metrics).toContainEqual({
      key: 'train/loss',
      steps: 10,
      firstStep: 1,
      lastStep: 10,
      last: 2.5,
      min: 2.5,
      minStep: 10,
      max: 4.75,
      maxStep: 1,
    });
    expect(j.artifacts).toEqual([expect.objectContaining({ path: ckDir, kind: 'checkpoint' })]);
  });

  it('lists the nearest ids for an unknown one, and the candidates of an ambiguous prefix', async () => {
    const r = await cli(['show', 'aaaa1112']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('no run "aaaa1112"');
    expect(r.err).toMatch(/nearest ids:\n {2}aaaa1111 train tiny \(finished\)\n {2}aaaa2222/);
    const amb = await cli(['show', 'aaaa']);
    expect(amb.code).toBe(1);
    expect(amb.err).toContain('run id "aaaa" is the start of 2 runs; give more of it');
    expect(amb.err).toContain('aaaa1111');
    expect(amb.err).toContain('aaaa2222');
  });

  it('compares runs: params that differ, equal ones counted, final and best side by side', async () => {
    const r = await cli(['compare', 'aaaa1', 'aaaa2']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('params: 1 differ, 2 equal');
    expect(r.out).toMatch(/^lr\s+0.001\s+0.01$/m);
    expect(r.out).toMatch(/^train\/loss\s+final\s+2.5\s+4.75$/m);
    expect(r.out).toMatch(/^\s+best \(min\)\s+2.5 @10\s+4.75 @10$/m);
    expect(r.out).toMatch(/^val\/acc\s+final\s+0.25\s+0.5$/m);
    expect(r.out).toMatch(/^\s+best \(max\)\s+0.25 @10\s+0.5 @10$/m);
    const j = JSON.parse((await cli(['compare', A, B, C, '--json'])).out) as {
      paramsDiffer: Record<string, unknown[]>;
      paramsEqual: number;
      metrics: { key: string; best: string | null; final: unknown[]; bestValue: unknown[] }[];
    };
    expect(j.paramsDiffer).toEqual({
      lr: [0.001, 0.01, 0.001],
      preset: ['micro', 'micro', 'nano'],
      steps: [10, 10, null],
    });
    expect(j.paramsEqual).toBe(0);
    expect(j.metrics.find((m) => m.key === 'val/loss')).toEqual({
      key: 'val/loss',
      best: 'min',
      final: [4, 4.75, null],
      bestValue: [4, 4.75, null],
      bestStep: [10, 10, null],
    });
    expect((await cli(['compare', A])).code).toBe(2);
    expect((await cli(['compare', A, 'aaaa1'])).err).toContain('two different runs');
  });
});

describe('flowlm runs on a real training', () => {
  it('lists and shows the run of a short flowlm train with the losses of its metrics.jsonl', async () => {
    const store = join(tmp, 'train.sqlite');
    const shards = join(tmp, 'shards');
    const runDir = join(tmp, 'train-run');
    await writeTrainShards(shards, 4, 32, 64);
    const sets = [...microTrainSets(shards), 'trainer.steps=3', 'trainer.evalEvery=0', `trainer.runDir=${runDir}`];
    const train = await flowlm(
      ['train', 'pipelines/train-tiny.ts', '--devices', 'cpu:1', ...sets.flatMap((s) => ['--set', s])],
      { env: { FLOWLM_STORE: store } },
    );
    expect(train.code, train.stderr).toBe(0);
    const log = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { split: string; name: string; value: number });
    const last = (split: string, name: string) => log.filter((r) => r.split === split && r.name === name).at(-1)!.value;

    const ls = await flowlm(['runs', 'ls', '--json'], { env: { FLOWLM_STORE: store } });
    expect(ls.code, ls.stderr).toBe(0);
    const [run, ...more] = JSON.parse(ls.stdout) as { id: string; status: string; final: Record<string, number> }[];
    expect(more).toEqual([]);
    expect(run).toMatchObject({ status: 'finished', runDir, name: 'train train-tiny' });
    expect(run!.final).toEqual({ 'train/loss': last('train', 'loss'), 'val/loss': last('val', 'loss') });

    const show = await flowlm(['runs', 'show', run!.id.slice(0, 6), '--json', '--store', store]);
    const j = JSON.parse(show.stdout) as { metrics: { key: string; steps: number; last: number }[] };
    expect(j.metrics.find((m) => m.key === 'train/loss')).toMatchObject({ steps: 3, last: last('train', 'loss') });
  }, 60_000);
});
