// `flowlm runs export|rm` and the store's whereabouts, on a store filled through the RunStore API
// (test/fixtures/runs-store.ts): the CSV and Parquet files read back against the points written, rm's
// refusal without --yes off a terminal and its question on one, and a missing store's error saying where
// it looked.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.ts';
import { runsCommand } from '../../src/cli/runs-command.ts';
import { RunStore } from '../../src/runs/store.ts';
import { A, B, B_NAME, T, T0, checkpointDir, fillStore, lossA, lossB, runsCli } from '../fixtures/runs-store.ts';
import { flowlm } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-runs-cmd-'));
const storeFile = join(tmp, 'runs.sqlite');
const ckDir = checkpointDir(tmp);
beforeAll(() => fillStore(storeFile, tmp));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cli = (args: string[], store: string | null = storeFile) => runsCli(args, store);

describe('flowlm runs export', () => {
  it('writes the metric points as CSV, NaN spelled out, names quoted', async () => {
    const out = join(tmp, 'x', 'm.csv');
    const r = await cli(['export', 'aaaa1', 'aaaa2', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`25 metric rows of 2 runs -> ${out}`);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('run_id,run_name,key,step,value,time');
    expect(lines).toHaveLength(26);
    const t0 = T0;
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
    const t0 = T0;
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
