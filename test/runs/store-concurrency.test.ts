// The run store under concurrent writers (the acceptance point of issue #16): four node processes, each
// its own run, write 10,000 metrics each into one store file at the same time in transactions of 1-50
// points (test/fixtures/store-writer.ts), racing each other from the file's creation on. Every point is
// there exactly once with the value written. A writer SIGKILLed mid-writing leaves a file that passes
// `PRAGMA integrity_check`, holding whole transactions of it only, and its run is failed (naming its
// pid) once the store is opened again, while the others finished.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { batchSize, valueOf } from '../fixtures/store-writer.ts';
import { RunStore } from '../../src/runs/store.ts';
import { ROOT, TS_IMPORT } from '../cli/spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-store-conc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const WRITER = join(ROOT, 'test/fixtures/store-writer.ts');

interface Writer {
  child: ChildProcess;
  out(): string;
  ready: Promise<void>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** the last `rows N` line */
  rows(): number;
}

function writer(store: string, name: string, points: number): Writer {
  const child = spawn(process.execPath, ['--import', TS_IMPORT, WRITER, store, name, String(points)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res, rej) => {
    child.on('error', rej);
    child.on('close', (code, signal) => {
      if (code !== 0 && signal === null) rej(new Error(`writer ${name} exited ${code}: ${err}`));
      else res({ code, signal });
    });
  });
  const until = async (test: () => boolean) => {
    const deadline = Date.now() + 15_000;
    while (!test()) {
      if (child.exitCode !== null) throw new Error(`writer ${name} ended early: ${err}`);
      if (Date.now() > deadline) throw new Error(`writer ${name} timed out: ${out.slice(-200)} ${err}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const rows = () => Number(/rows (\d+)\n(?![\s\S]*rows)/.exec(out)?.[1] ?? 0);
  return { child, out: () => out, ready: until(() => out.includes('ready ')), done, rows };
}

const go = (ws: Writer[]) => {
  for (const w of ws) w.child.stdin!.end('go\n');
};
const summary = (w: Writer) =>
  JSON.parse(w.out().trim().split('\n').at(-1)!) as { runId: string; rows: number; start: number; end: number };

/** the step counts a writer of unbounded points has after whole transactions */
function transactionEnds(limit: number): Set<number> {
  const ends = new Set<number>([0]);
  for (let i = 0, s = 0; s <= limit; i++) ends.add((s += batchSize(i)));
  return ends;
}

describe('RunStore with concurrent writer processes', () => {
  it('keeps every metric of 4 processes writing 10,000 each at once, exactly once', async () => {
    const path = join(tmp, 'four.sqlite');
    const names = ['w1', 'w2', 'w3', 'w4'];
    const ws = names.map((n) => writer(path, n, 10_000));
    await Promise.all(ws.map((w) => w.ready));
    const t0 = performance.now();
    go(ws);
    await Promise.all(ws.map((w) => w.done));
    const ms = performance.now() - t0;
    const sums = ws.map(summary);
    // the writers did write at the same time: each started before any ended
    expect(Math.max(...sums.map((s) => s.start))).toBeLessThan(Math.min(...sums.map((s) => s.end)));

    const db = new Database(path, { readonly: true });
    const total = (db.prepare('SELECT count(*) AS n FROM metrics').get() as { n: number }).n;
    const distinct = (
      db.prepare('SELECT count(*) AS n FROM (SELECT DISTINCT run_id, key, step FROM metrics)').get() as { n: number }
    ).n;
    expect(total).toBe(40_000);
    expect(distinct).toBe(40_000);
    db.close();
    const store = RunStore.open(path, { readonly: true });
    for (const [i, s] of sums.entries()) {
      const run = store.run(s.runId)!;
      expect(run.status).toBe('finished');
      expect(run.name).toBe(names[i]);
      const pts = store.metrics(s.runId, 'w/value');
      expect(pts.map((p) => p.step)).toEqual(Array.from({ length: 10_000 }, (_, k) => k));
      expect(pts.every((p) => p.value === valueOf(names[i]!, p.step))).toBe(true);
    }
    store.close();
    // the transactions each writer made: batchSize(0), batchSize(1), ... until 10,000 points
    let transactions = 0;
    for (let pts = 0; pts < 10_000; transactions++) pts += batchSize(transactions);
    const writing = Math.max(...sums.map((s) => s.end)) - Math.min(...sums.map((s) => s.start));
    console.log(
      `run store, 4 writer processes x 10,000 metrics in transactions of 1-50 points (${transactions} each, ` +
        `${transactions * 4} in all): ${ms.toFixed(0)} ms from the start signal to the last exit; writing ` +
        `(first start to last end) ${writing} ms = ${Math.round(40_000 / (writing / 1000))} rows/s, ` +
        `${Math.round((transactions * 4) / (writing / 1000))} transactions/s`,
    );
  }, 30_000);

  it('a writer SIGKILLed mid-writing leaves an intact file, whole transactions, and a failed run', async () => {
    const path = join(tmp, 'killed.sqlite');
    const ws = ['a', 'b', 'c'].map((n) => writer(path, n, 10_000));
    const victim = writer(path, 'victim', 0);
    const all = [...ws, victim];
    await Promise.all(all.map((w) => w.ready));
    go(all);
    // killed while it and the others write (it writes until killed)
    const deadline = Date.now() + 15_000;
    while (victim.rows() < 2_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const pid = victim.child.pid!;
    victim.child.kill('SIGKILL');
    expect((await victim.done).signal).toBe('SIGKILL');
    await Promise.all(ws.map((w) => w.done));
    const victimRun = /ready (\w+)/.exec(victim.out())![1]!;

    const db = new Database(path, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const steps = (
      db.prepare('SELECT step FROM metrics WHERE run_id = ? ORDER BY step').all(victimRun) as { step: number }[]
    ).map((r) => r.step);
    db.close();
    expect(steps.length).toBeGreaterThanOrEqual(victim.rows());
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, k) => k));
    // the rows end at a transaction's end: no part of a batch is in the file
    expect(transactionEnds(steps.length + 50).has(steps.length)).toBe(true);

    const store = RunStore.open(path);
    const run = store.run(victimRun)!;
    expect(run.status).toBe('failed');
    expect(run.error).toContain(`process ${pid}`);
    for (const w of ws) {
      const s = summary(w);
      expect(store.run(s.runId)!.status).toBe('finished');
      expect(store.metrics(s.runId).length).toBe(10_000);
    }
    store.close();
    console.log(`run store, writer killed after ${steps.length} committed rows: integrity ok, whole transactions`);
  }, 30_000);
});
