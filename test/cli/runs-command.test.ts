// `flowlm runs ls|show|compare|export|rm` on a store filled through the RunStore API (known params and
// metrics, so every figure printed has a reference) and on a real short `flowlm train`: filters, the
// summaries, the comparison, the CSV and Parquet files read back, rm's refusal without --yes off a
// terminal, and errors that say what to do (an unknown id lists the nearest, a missing store says where
// it looked).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import { runsCommand } from '../../src/cli/runs-command.ts';
import { RunStore } from '../../src/runs/store.ts';
import { writeTrainShards } from '../fixtures/train-shards.ts';
import { flowlm } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-runs-cmd-'));
const storeFile = join(tmp, 'runs.sqlite');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const A = 'aaaa1111c0ffee00';
const B = 'aaaa2222c0ffee00';
const C = 'bbbb3333c0ffee00';
const T = 'cccc4444c0ffee00';
const B_NAME = 'train small, "quoted"';
const ckDir = join(tmp, 'run-a', 'step-000010');
const lossA = (s: number) => 5 - 0.25 * s;
const lossB = (s: number) => (s === 4 ? Number.NaN : 6 - 0.125 * s);

async function cli(
  args: string[],
  store: string | null = storeFile,
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = {
    out: (t) => {
      out += t.endsWith('\n') ? t : `${t}\n`;
    },
    err: (t) => {
      err += t.endsWith('\n') ? t : `${t}\n`;
    },
    stderr: process.stderr,
  };
  const code = await main(['runs', ...args, ...(store === null ? [] : ['--store', store])], io);
  return { code, out, err };
}

beforeAll(() => {
  const s = RunStore.open(storeFile);
  const mk = (id: string, name: string, startedAt: number, params: Record<string, unknown>, extra = {}) => {
    s.createRun({ id, name, command: 'train', argv: ['x.ts'], params, ...extra });
    s.db.prepare('UPDATE runs SET started_at = ? WHERE id = ?').run(startedAt, id);
  };
  const t0 = Date.UTC(2026, 0, 1);
  mk(A, 'train tiny', t0, { lr: 0.001, preset: 'micro', steps: 10 });
  mk(B, B_NAME, t0 + 1000, { lr: 0.01, preset: 'micro', steps: 10 });
  mk(C, 'eval tiny', t0 + 2000, { lr: 0.001, preset: 'nano' });
  const study = s.createStudy({ name: 'sweep', direction: 'minimize', metric: 'val/loss', spec: {} });
  mk(T, 'trial 0', t0 + 3000, { lr: 0.002 }, { studyId: study.id, trial: 0 });
  const steps = Array.from({ length: 10 }, (_, i) => i + 1);
  s.logMetrics(A, [
    ...steps.map((step) => ({ key: 'train/loss', step, value: lossA(step), time: t0 + step })),
    { key: 'val/loss', step: 5, value: 4.5, time: t0 + 5 },
    { key: 'val/loss', step: 10, value: 4.0, time: t0 + 10 },
    { key: 'val/acc', step: 10, value: 0.25, time: t0 + 10 },
  ]);
  s.logMetrics(B, [
    ...steps.map((step) => ({ key: 'train/loss', step, value: lossB(step), time: t0 + step })),
    { key: 'val/loss', step: 10, value: 4.75, time: t0 + 10 },
    { key: 'val/acc', step: 10, value: 0.5, time: t0 + 10 },
  ]);
  mkdirSync(ckDir, { recursive: true });
  s.logArtifact(A, { path: ckDir, kind: 'checkpoint' });
  s.finishRun(A, 'finished');
  s.finishRun(B, 'failed', 'out of memory');
  s.finishRun(T, 'finished');
  s.db.prepare('UPDATE runs SET ended_at = started_at + 65000 WHERE id = ?').run(A);
  s.close(); // C stays running: its pid is this process's, alive
});

const ids = (out: string) =>
  out
    .split('\n')
    .slice(2)
    .filter(Boolean)
    .map((l) => l.split(/\s+/)[0]);

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

describe('flowlm runs export', () => {
  it('writes the metric points as CSV, NaN spelled out, names quoted', async () => {
    const out = join(tmp, 'x', 'm.csv');
    const r = await cli(['export', 'aaaa1', 'aaaa2', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`25 metric rows of 2 runs -> ${out}`);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('run_id,run_name,key,step,value,time');
    expect(lines).toHaveLength(26);
    const t0 = Date.UTC(2026, 0, 1);
    expect(lines).toContain(`${A},train tiny,train/loss,3,${lossA(3)},${t0 + 3}`);
    expect(lines).toContain(`${B},"train small, ""quoted""",train/loss,4,NaN,${t0 + 4}`);
    expect(lines).toContain(`${B},"train small, ""quoted""",val/acc,10,0.5,${t0 + 10}`);
    // every point of the store, once
    const s = RunStore.open(storeFile, { readonly: true });
    expect(lines.length - 1).toBe(s.metrics(A).length + s.metrics(B).length);
    s.close();
    // no temporary file left beside it
    expect(readdirSync(join(tmp, 'x'))).toEqual(['m.csv']);
  });

  it('writes Parquet that hyparquet reads back, only the keys asked for', async () => {
    const out = join(tmp, 'm.parquet');
    const r = await cli(['export', A, B, '--out', out, '--key', 'train/loss']);
    expect(r.code, r.err).toBe(0);
    const rows = (await parquetReadObjects({ file: new Uint8Array(readFileSync(out)).buffer })) as {
      run_id: string;
      run_name: string;
      key: string;
      step: bigint;
      value: number;
      time: Date;
    }[];
    expect(rows).toHaveLength(20);
    const t0 = Date.UTC(2026, 0, 1);
    const want = [
      ...Array.from({ length: 10 }, (_, i) => [A, 'train tiny', i + 1, lossA(i + 1)] as const),
      ...Array.from({ length: 10 }, (_, i) => [B, B_NAME, i + 1, lossB(i + 1)] as const),
    ];
    rows.forEach((row, i) => {
      const [id, name, step, value] = want[i]!;
      expect(row.run_id).toBe(id);
      expect(row.run_name).toBe(name);
      expect(row.key).toBe('train/loss');
      expect(Number(row.step)).toBe(step);
      expect(Object.is(row.value, value)).toBe(true);
      expect(new Date(row.time).getTime()).toBe(t0 + step);
    });
  });

  it('refuses an unknown format or key, naming what there is', async () => {
    const fmt = await cli(['export', A, '--out', join(tmp, 'm.txt')]);
    expect(fmt.code).toBe(2);
    expect(fmt.err).toContain('name a .csv or a .parquet file');
    const key = await cli(['export', A, '--out', join(tmp, 'k.csv'), '--key', 'val/nope']);
    expect(key.code).toBe(1);
    expect(key.err).toContain('--key val/nope: no such metric in these runs (keys: train/loss, val/acc, val/loss)');
    expect(existsSync(join(tmp, 'k.csv'))).toBe(false);
  });
});

describe('flowlm runs rm and the store', () => {
  it('refuses to delete without --yes off a terminal, then deletes runs and rows with it, not files', async () => {
    const refused = await flowlm(['runs', 'rm', 'aaaa1', '--store', storeFile]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('would delete 1 run:\n  aaaa1111 train tiny (finished)');
    expect(refused.stderr).toContain('add --yes to delete them');
    const s = RunStore.open(storeFile, { readonly: true });
    expect(s.run(A)).toBeDefined();
    s.close();

    const r = await cli(['rm', 'aaaa1', 'cccc', '--yes']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('deleted 2 runs');
    const after = RunStore.open(storeFile, { readonly: true });
    expect(after.run(A)).toBeUndefined();
    expect(after.run(T)).toBeUndefined();
    expect(after.metrics(A)).toEqual([]);
    expect(after.artifacts(A)).toEqual([]);
    expect(after.params(A)).toEqual({});
    expect(after.metrics(B)).toHaveLength(12);
    after.close();
    expect(existsSync(ckDir)).toBe(true);
    // an unknown id deletes nothing, not even the known ones given with it
    const mixed = await cli(['rm', B, 'ffff', '--yes']);
    expect(mixed.code).toBe(1);
    expect(mixed.err).toContain('no run "ffff"');
    expect((await cli(['ls'])).out).toContain('aaaa2222');
  });

  it('asks on a terminal, and deletes only on yes', async () => {
    const s = RunStore.open(storeFile);
    s.createRun({ id: 'dddd5555c0ffee00', name: 'to ask about', command: 'train' });
    s.close();
    const ask = async (answer: string) => {
      const stdin = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.ReadStream;
      const prompt = new PassThrough();
      let asked = '';
      prompt.setEncoding('utf8').on('data', (d: string) => {
        asked += d;
        if (asked.includes('[y/N]')) stdin.write(`${answer}\n`);
      });
      let out = '';
      const io: CliIO = {
        out: (t) => {
          out += t;
        },
        err: (t) => {
          out += t;
        },
        stderr: prompt as unknown as NodeJS.WriteStream,
      };
      const code = await runsCommand(['rm', 'dddd', '--store', storeFile], io, stdin);
      return { code, asked, out };
    };
    const no = await ask('n');
    expect(no.asked).toContain('delete 1 run?\n  dddd5555 to ask about (running)\n[y/N]');
    expect(no.code).toBe(1);
    expect(no.out).toContain('nothing deleted');
    expect((await cli(['ls'])).out).toContain('dddd5555');
    const yes = await ask('y');
    expect(yes.code).toBe(0);
    expect(yes.out).toContain('still running');
    expect((await cli(['ls'])).out).not.toContain('dddd5555');
  });

  it('says where it looked for a missing store, and creates none', async () => {
    const missing = join(tmp, 'none', 'runs.sqlite');
    const r = await cli(['ls'], missing);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`flowlm runs ls: no run store at ${missing} (from --store)`);
    const prior = process.env.FLOWLM_STORE;
    process.env.FLOWLM_STORE = missing;
    try {
      const env = await cli(['show', 'abc'], null);
      expect(env.err).toContain(`no run store at ${missing} (from FLOWLM_STORE)`);
    } finally {
      process.env.FLOWLM_STORE = prior;
    }
    expect(existsSync(missing)).toBe(false);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('compare ID ID... [--json]');
    const unknown = await cli(['list']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown subcommand "runs list" (subcommands: ls, show, compare, export, rm)');
  });
});

describe('flowlm runs on a real training', () => {
  it('lists and shows the run of a short flowlm train with the losses of its metrics.jsonl', async () => {
    const store = join(tmp, 'train.sqlite');
    const shards = join(tmp, 'shards');
    const runDir = join(tmp, 'train-run');
    await writeTrainShards(shards, 4, 32, 64);
    const sets = [
      'model.preset="micro"',
      'model.vocabSize=50257',
      'model.contextLength=32',
      'model.dModel=32',
      `data.dir=${shards}`,
      'data.seqLen=16',
      'data.holdoutRows=16',
      'trainer.steps=3',
      'trainer.evalEvery=0',
      `trainer.runDir=${runDir}`,
    ];
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
