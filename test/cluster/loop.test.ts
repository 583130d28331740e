// The NATS loop in process, against a real nats-server and a stand-in data module: every item is run
// and merged in order; a restarted coordinator republishes nothing new (server dedup plus items
// verified on disk); an item whose input vanished is parked after max_deliver with its error; a worker
// whose pulls keep failing says so; a worker started before its job waits for it whenever the record lands.
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bucket } from '@nats-io/kv';
import { coordinate, type CoordinateOutcome } from '../../src/cluster/coordinator.ts';
import { connectCluster } from '../../src/cluster/connect.ts';
import { jobStatus, listJobs } from '../../src/cluster/status.ts';
import { PULL_FAILURE_REPORT_MS, runWorker } from '../../src/cluster/worker.ts';
import { defaultJobName, ensureStreams, type JobSpec } from '../../src/cluster/streams.ts';
import { startNatsServer, type NatsServer } from '../setup/nats-server.ts';
import { fakeModule } from './fake-module.ts';

let nats: NatsServer;
const tmp = mkdtempSync(join(tmpdir(), 'flowlm-cluster-loop-'));
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function inputs(dir: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const p = join(tmp, `${dir}-${i}.txt`);
    writeFileSync(p, `document ${i} of ${dir}\n`);
    return p;
  });
}

const settings = { ackWaitMs: 1000, maxDeliver: 3, maxAckPending: 4 };
const quiet = () => {};

describe('cluster loop (in process)', () => {
  it('runs every item once per delivery, merges in item order, and a second coordinator finds all done', async () => {
    const paths = inputs('a', 9);
    const runs: number[] = [];
    const mod = fakeModule(paths, runs);
    const out = join(tmp, 'out-a');
    const lines: string[] = [];
    const coord = coordinate({
      url: nats.url,
      job: 'loop-a',
      options: { out },
      settings,
      progress: (l) => lines.push(l),
      module: mod,
      progressMs: 100,
    });
    const workers = [0, 1].map((n) =>
      runWorker({ url: nats.url, job: 'loop-a', slots: 2, id: `w${n}`, log: quiet, module: mod }),
    );
    const r = await coord;
    const w = await Promise.all(workers);
    expect(r.parked).toEqual([]);
    expect(r.items).toBe(9);
    const manifest = JSON.parse(readFileSync(r.merge!.manifest, 'utf8')) as { text: string };
    expect(manifest.text).toBe(paths.map((p) => readFileSync(p, 'utf8').toUpperCase()).join(''));
    expect(w[0]!.items + w[1]!.items).toBe(9);
    expect(lines[0]).toMatch(/job loop-a: 9 items, 9 published/);
    expect(lines.at(-1)).toMatch(/9\/9 items done, 0 pending, 0 failures, 0 parked/);
    // again: nothing to publish, nothing runs
    const again = await coordinate({
      url: nats.url,
      job: 'loop-a',
      options: { out },
      settings,
      progress: quiet,
      module: mod,
    });
    expect(again.skipped).toBe(9);
    expect(runs.length).toBe(9);
    const c = await connectCluster(nats.url, 'test');
    const spec = (await listJobs(c)).find((j) => j.job === 'loop-a')!;
    expect(spec.state).toBe('complete');
    const st = await jobStatus(c, spec);
    await c.close();
    expect(st).toMatchObject({ total: 9, done: 9, pending: 0, ackPending: 0, parked: [] });
  });

  it('parks an item that fails on every delivery, with its error, and merges nothing', async () => {
    const paths = inputs('b', 4);
    const mod = fakeModule(paths);
    const out = join(tmp, 'out-b');
    const lines: string[] = [];
    const coord = coordinate({
      url: nats.url,
      job: 'loop-b',
      options: { out },
      settings,
      progress: (l) => lines.push(l),
      module: mod,
    });
    while (!lines.some((l) => l.includes('published'))) await new Promise((r) => setTimeout(r, 20));
    unlinkSync(paths[2]!); // the input vanishes before any worker reads it
    const w = await runWorker({ url: nats.url, job: 'loop-b', slots: 1, id: 'w', log: quiet, module: mod });
    const r = await coord;
    expect(r.merge).toBeNull();
    expect(r.parked).toEqual([{ index: 2, path: paths[2], error: expect.stringMatching(/ENOENT.*b-2\.txt/) }]);
    // every delivery failed (one may be lost to a pull request expiring as it is sent: it counts as a
    // delivery the worker never saw)
    expect(w.failures).toBeGreaterThanOrEqual(settings.maxDeliver - 1);
    expect(w.failures).toBeLessThanOrEqual(settings.maxDeliver);
    expect(w.items).toBe(3);
  });

  it('heartbeats keep an item that runs past ack_wait from being redelivered', async () => {
    const paths = inputs('c', 2);
    const runs: number[] = [];
    const mod = fakeModule(paths, runs, 2500); // 2.5 ack_waits per item
    const out = join(tmp, 'out-c');
    const coord = coordinate({
      url: nats.url,
      job: 'loop-c',
      options: { out },
      settings,
      progress: quiet,
      module: mod,
    });
    const ws = [0, 1].map((n) =>
      runWorker({ url: nats.url, job: 'loop-c', slots: 1, id: `w${n}`, log: quiet, module: mod }),
    );
    const r = await coord;
    await Promise.all(ws);
    expect(r.parked).toEqual([]);
    expect(runs.sort()).toEqual([0, 1]); // each ran once: no redelivery to the other worker
    expect(r.duplicates).toBe(0);
  });

  it('a worker without a job serves every running job; --max-items and --idle-exit end it', async () => {
    const paths = inputs('d', 6);
    const mod = fakeModule(paths);
    const out = join(tmp, 'out-d');
    const coord = coordinate({
      url: nats.url,
      job: 'loop-d',
      options: { out },
      settings,
      progress: quiet,
      module: mod,
    });
    const capped = await runWorker({ url: nats.url, slots: 1, maxItems: 2, id: 'capped', log: quiet, module: mod });
    expect(capped.items).toBe(2);
    const t = performance.now();
    const idle = await runWorker({ url: nats.url, slots: 2, idleExitMs: 1500, id: 'idle', log: quiet, module: mod });
    expect(idle.items).toBe(4);
    expect(performance.now() - t).toBeGreaterThan(1500); // it waited for more work before leaving
    const r = await coord;
    expect(r.parked).toEqual([]);
    expect(r.workers.map((w) => [w.worker, w.items])).toEqual([
      ['capped', 2],
      ['idle', 4],
    ]);
  });

  it('without --job the job is named by its options and inputs: the same command resumes it', async () => {
    const paths = inputs('e', 3);
    const mod = fakeModule(paths);
    const out = join(tmp, 'out-e');
    const coord = coordinate({ url: nats.url, options: { out, seqLen: 64 }, settings, progress: quiet, module: mod });
    const w = runWorker({ url: nats.url, slots: 1, idleExitMs: 1500, id: 'w', log: quiet, module: mod });
    const first = await coord;
    await w;
    expect(first.job).toMatch(/^prep-[0-9a-f]{12}$/);
    const again = await coordinate({
      url: nats.url,
      options: { out, seqLen: 64 },
      settings,
      progress: quiet,
      module: mod,
    });
    expect(again).toMatchObject({ job: first.job, skipped: 3 });
    const items = paths.map((p) => [p]);
    expect(defaultJobName({ out, seqLen: 64 }, items)).toBe(first.job);
    expect(defaultJobName({ out, seqLen: 128 }, items)).not.toBe(first.job);
    expect(defaultJobName({ out, seqLen: 64 }, items.slice(1))).not.toBe(first.job);
    expect(defaultJobName({ out, seqLen: 64 }, [paths])).not.toBe(first.job); // grouped otherwise
  });

  it('a worker whose pulls keep failing reports why, once they have failed for a while', async () => {
    // a job recorded as running whose consumer is missing (deleted by hand, or a coordinator that died
    // between the two): every pull fails with the server's answer
    const c = await connectCluster(nats.url, 'test');
    await ensureStreams(c.jsm);
    const spec: JobSpec = {
      job: 'loop-f',
      count: 1,
      options: { out: join(tmp, 'out-f') },
      ...settings,
      state: 'running',
      created: new Date().toISOString(),
    };
    await c.jobs.put('loop-f', new TextEncoder().encode(JSON.stringify(spec)));
    const lines: Array<{ line: string; at: number }> = [];
    const stop = new AbortController();
    const t0 = performance.now();
    const w = runWorker({
      url: nats.url,
      job: 'loop-f',
      slots: 1,
      id: 'w',
      log: (line) => {
        lines.push({ line, at: performance.now() - t0 });
        if (line.includes('failing for')) stop.abort();
      },
      module: fakeModule([]),
      signal: stop.signal,
    });
    const timer = setTimeout(() => stop.abort(), 4 * PULL_FAILURE_REPORT_MS);
    const outcome = await w;
    clearTimeout(timer);
    await c.close();
    const report = lines.find((l) => l.line.includes('failing for'));
    expect(report?.line).toMatch(/^worker w: failing for \d+\.\d s: pulling an item of job loop-f: .*consumer/i);
    // not at the first failure (one is ordinary): only once they have lasted
    expect(report!.at).toBeGreaterThanOrEqual(PULL_FAILURE_REPORT_MS);
    expect(outcome.items).toBe(0);
  });

  it('a worker started before its job runs it, whichever of its reads the job record lands between', async () => {
    // The worker looks for its job (no record yet), waits, then checks whether the job is over. The record
    // is put while the n-th of the worker's reads that found nothing is on its way back: n = 2 is the
    // first read of that check, where a worker reading the record twice took a job put in between for one
    // already over and exited without an item.
    const get = Bucket.prototype.get;
    try {
      for (const n of [1, 2, 3]) {
        const job = `loop-g${n}`;
        const paths = inputs(`g${n}`, 3);
        const mod = fakeModule(paths);
        const lines: string[] = [];
        let coord: Promise<CoordinateOutcome> | undefined;
        let workerBucket: Bucket | undefined;
        let misses = 0;
        Bucket.prototype.get = async function (this: Bucket, ...args: Parameters<Bucket['get']>) {
          const e = await get.apply(this, args);
          workerBucket ??= this; // the worker reads first; the coordinator starts later
          if (this === workerBucket && args[0] === job && e === null && ++misses === n) {
            coord = coordinate({
              url: nats.url,
              job,
              options: { out: join(tmp, `out-g${n}`) },
              settings,
              progress: (l) => lines.push(l),
              module: mod,
            });
            while (!lines.some((l) => l.includes('published'))) await new Promise((r) => setTimeout(r, 10));
          }
          return e;
        } as Bucket['get'];
        const w = await runWorker({ url: nats.url, job, slots: 1, id: `w${n}`, log: quiet, module: mod });
        expect(misses).toBeGreaterThanOrEqual(n);
        // a worker that left early: another one drains the job, so the coordinator ends and the test fails
        // on the count below instead of waiting for items no one runs
        if (w.items < 3) await runWorker({ url: nats.url, job, slots: 1, id: `drain${n}`, log: quiet, module: mod });
        const r = await coord!;
        expect([n, w.items]).toEqual([n, 3]);
        expect(r.parked).toEqual([]);
        Bucket.prototype.get = get;
      }
    } finally {
      Bucket.prototype.get = get;
    }
  });
});
