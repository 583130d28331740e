// RunStore's contract: immutable params, metrics keyed by (run, key, step), NaN and infinities kept,
// runs found by an id prefix and filtered, a deleted run taking its rows with it, dead runs reaped by
// pid, the first word on a run's end winning, and a store of a newer schema refused.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore, StoreError } from '../../src/runs/store.ts';
import { STORE_VERSION } from '../../src/runs/store-schema.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = () => RunStore.open(join(tmp, `s${n++}.sqlite`));

describe('RunStore', () => {
  it('keeps params immutable: the same value again is fine, another one is an error', () => {
    const s = fresh();
    const r = s.createRun({ name: 'a', command: 'train', params: { lr: 0.001, preset: 'micro' } });
    s.logParams(r.id, { lr: 0.001, steps: 10 });
    expect(s.params(r.id)).toEqual({ lr: 0.001, preset: 'micro', steps: 10 });
    expect(() => s.logParams(r.id, { steps: 10, lr: 0.002 })).toThrow(StoreError);
    expect(() => s.logParams(r.id, { lr: 0.002 })).toThrow(/param "lr" is 0.001 and cannot change to 0.002/);
    // the failed write changed nothing, not even the keys before the conflicting one
    s.logParams(r.id, { other: 1, preset: 'micro' });
    expect(s.params(r.id)).toEqual({ lr: 0.001, other: 1, preset: 'micro', steps: 10 });
    expect(() => s.logParams(r.id, { fresh: true, preset: 'nano' })).toThrow(StoreError);
    expect(s.params(r.id)).not.toHaveProperty('fresh');
    s.close();
  });

  it('keys metrics by (run, key, step): a rewrite replaces the value and never adds a row', () => {
    const s = fresh();
    const a = s.createRun({ name: 'a', command: 'train' });
    const b = s.createRun({ name: 'b', command: 'train' });
    s.logMetrics(a.id, [
      { key: 'train/loss', step: 1, value: 3, time: 10 },
      { key: 'train/loss', step: 2, value: 2, time: 20 },
      { key: 'val/loss', step: 2, value: 2.5, time: 20 },
    ]);
    s.logMetrics(b.id, [{ key: 'train/loss', step: 1, value: 9, time: 10 }]);
    s.logMetrics(a.id, [{ key: 'train/loss', step: 2, value: 1.5, time: 30 }]);
    expect(s.metrics(a.id, 'train/loss')).toEqual([
      { key: 'train/loss', step: 1, value: 3, time: 10 },
      { key: 'train/loss', step: 2, value: 1.5, time: 30 },
    ]);
    expect(s.metrics(a.id)).toHaveLength(3);
    expect(s.metrics(b.id)).toEqual([{ key: 'train/loss', step: 1, value: 9, time: 10 }]);
    expect(s.metricKeys(a.id)).toEqual(['train/loss', 'val/loss']);
    expect(s.metrics(a.id, 'train/loss', 1).map((p) => p.step)).toEqual([2]);
    const count = (s.db.prepare('SELECT count(*) AS n FROM metrics').get() as { n: number }).n;
    expect(count).toBe(4);
    s.close();
  });

  it('gives back NaN, Infinity and -Infinity as written', () => {
    const s = fresh();
    const r = s.createRun({ name: 'a', command: 'train' });
    const values = [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0.5,
      1e-300,
      1.7976931348623157e308,
    ];
    s.logMetrics(
      r.id,
      values.map((value, step) => ({ key: 'x', step, value, time: step })),
    );
    const back = s.metrics(r.id, 'x').map((p) => p.value);
    expect(back).toHaveLength(values.length);
    back.forEach((v, i) => expect(Object.is(v, values[i])).toBe(true));
    s.close();
    const again = RunStore.open(s.path);
    expect(again.metrics(r.id, 'x').map((p) => p.value)).toEqual(values);
    again.close();
  });

  it('finds a run by its id or a unique prefix, and says so when a prefix is ambiguous', () => {
    const s = fresh();
    for (const id of ['abc123', 'abd456', 'ff0000']) s.createRun({ id, name: id, command: 'train' });
    expect(s.run('abc123')?.name).toBe('abc123');
    expect(s.run('abc')?.id).toBe('abc123');
    expect(s.run('f')?.id).toBe('ff0000');
    expect(s.run('0')).toBeUndefined();
    expect(() => s.run('ab')).toThrow(/prefix "ab" matches more than one run/);
    // LIKE wildcards in the prefix are not wildcards
    expect(() => s.run('_b')).not.toThrow();
    expect(s.run('_b')).toBeUndefined();
    expect(s.run('%')).toBeUndefined();
    s.close();
  });

  it('filters runs by name, status, params, study and limit, newest first', async () => {
    const s = fresh();
    const mk = async (name: string, params: Record<string, unknown>) => {
      const r = s.createRun({ name, command: 'train', params });
      await new Promise((res) => setTimeout(res, 3)); // distinct start times
      return r.id;
    };
    const a = await mk('train tiny', { lr: 0.001, preset: 'micro' });
    const b = await mk('train small', { lr: 0.01, preset: 'micro' });
    const c = await mk('eval tiny', { lr: 0.001, preset: 'nano' });
    s.finishRun(a, 'finished');
    s.finishRun(b, 'failed', 'boom');
    const ids = (f: Parameters<RunStore['runs']>[0]) => s.runs(f).map((r) => r.id);
    expect(ids({})).toEqual([c, b, a]);
    expect(ids({ name: 'tiny' })).toEqual([c, a]);
    expect(ids({ status: 'running' })).toEqual([c]);
    expect(ids({ status: 'failed' })).toEqual([b]);
    expect(ids({ params: { lr: '0.001' } })).toEqual([c, a]);
    expect(ids({ params: { preset: 'micro' } })).toEqual([b, a]);
    expect(ids({ params: { preset: 'micro', lr: '0.01' } })).toEqual([b]);
    // a number written another way is the same number
    expect(ids({ params: { lr: '1e-3' } })).toEqual([c, a]);
    expect(ids({ params: { preset: 'none' } })).toEqual([]);
    expect(ids({ name: 'tiny', status: 'finished' })).toEqual([a]);
    expect(ids({ limit: 2 })).toEqual([c, b]);
    const study = s.createStudy({ name: 'sweep', direction: 'minimize', metric: 'val/loss', spec: {} });
    const t = s.createRun({ name: 'trial 0', command: 'train', studyId: study.id, trial: 0 });
    expect(ids({ studyId: study.id })).toEqual([t.id]);
    expect(s.trials(study.id).map((r) => r.id)).toEqual([t.id]);
    s.close();
  });

  it('deletes a run with its params, metrics and artifacts, and nothing of other runs', () => {
    const s = fresh();
    const [a, b] = ['a', 'b'].map((name) => {
      const r = s.createRun({ name, command: 'train', params: { x: 1 } });
      s.logMetrics(r.id, [{ key: 'k', step: 0, value: 1, time: 0 }]);
      s.logArtifact(r.id, { path: `/tmp/${name}`, kind: 'checkpoint', bytes: 10 });
      return r.id;
    }) as [string, string];
    expect(s.deleteRun(a)).toBe(true);
    expect(s.deleteRun(a)).toBe(false);
    expect(s.run(a)).toBeUndefined();
    const rows = (table: string, id: string) =>
      (s.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE run_id = ?`).get(id) as { n: number }).n;
    for (const t of ['params', 'metrics', 'artifacts']) {
      expect(rows(t, a)).toBe(0);
      expect(rows(t, b)).toBe(1);
    }
    s.close();
  });

  it('marks a run of a dead process failed when reaping, and leaves live ones running', () => {
    const s = fresh();
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const deadPid = Number(child.stdout);
    expect(deadPid).toBeGreaterThan(0);
    const dead = s.createRun({ name: 'dead', command: 'train', pid: deadPid });
    const live = s.createRun({ name: 'live', command: 'train' });
    const done = s.createRun({ name: 'done', command: 'train', pid: deadPid });
    s.finishRun(done.id, 'finished');
    expect(s.reapStale()).toEqual([dead.id]);
    expect(s.run(dead.id)).toMatchObject({ status: 'failed', error: expect.stringContaining(`process ${deadPid}`) });
    expect(s.run(dead.id)!.endedAt).not.toBeNull();
    expect(s.run(live.id)!.status).toBe('running');
    expect(s.run(done.id)).toMatchObject({ status: 'finished', error: null });
    // a run on another host is judged by its heartbeat
    s.db.prepare("UPDATE runs SET host = 'elsewhere' WHERE id = ?").run(live.id);
    expect(s.reapStale(Date.now() + 1000)).toEqual([]);
    expect(s.reapStale(Date.now() + 120_000)).toEqual([live.id]);
    expect(s.run(live.id)!.error).toMatch(/no heartbeat from elsewhere/);
    s.close();
  });

  it('keeps the first word on how a run ended', () => {
    const s = fresh();
    const r = s.createRun({ name: 'a', command: 'train' });
    expect(s.finishRun(r.id, 'killed')).toBe(true);
    expect(s.finishRun(r.id, 'failed', 'late')).toBe(false);
    expect(s.run(r.id)).toMatchObject({ status: 'killed', error: null });
    s.heartbeat(r.id);
    expect(s.run(r.id)!.status).toBe('killed');
    s.close();
  });

  it('refuses a store of a newer schema version, writable or read-only, and leaves it as it was', () => {
    const path = join(tmp, 'newer.sqlite');
    RunStore.open(path).close();
    const db = new Database(path);
    db.pragma(`user_version = ${STORE_VERSION + 1}`);
    db.close();
    expect(() => RunStore.open(path)).toThrow(StoreError);
    expect(() => RunStore.open(path)).toThrow(`version ${STORE_VERSION + 1}; this flowlm reads up to ${STORE_VERSION}`);
    expect(() => RunStore.open(path, { readonly: true })).toThrow(StoreError);
    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(STORE_VERSION + 1);
    after.close();
  });

  it('opens a missing file read-only as an error naming the file', () => {
    const path = join(tmp, 'missing', 'none.sqlite');
    expect(() => RunStore.open(path, { readonly: true })).toThrow(StoreError);
    expect(() => RunStore.open(path, { readonly: true })).toThrow(path);
  });
});
