// A waiting worker wakes when a job's record is put (src/cluster/job-changes.ts), against a real
// nats-server: the waits below would otherwise run their whole (long) timeout and say so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCluster, type Cluster } from '../../src/cluster/connect.ts';
import { JobChanges } from '../../src/cluster/job-changes.ts';
import { startNatsServer, type NatsServer } from '../setup/nats-server.ts';

let nats: NatsServer;
let cluster: Cluster;
beforeAll(async () => {
  nats = await startNatsServer();
  cluster = await connectCluster(nats.url, 'job-changes-test');
});
afterAll(async () => {
  await cluster?.close();
  await nats?.close();
});

const LONG = 30_000;
const put = (job: string) => cluster.jobs.put(job, new TextEncoder().encode(JSON.stringify({ job })));

describe('JobChanges', () => {
  it("ends a wait when the watched job's record is put, and not for another job's", async () => {
    const changes = await JobChanges.open(cluster.jobs, 'watched');
    try {
      const since = changes.version;
      // another job's record: no wake (a short wait ends by its timeout)
      await put('other');
      expect(await changes.after(since, 300)).toBe(false);
      const waiting = changes.after(since, LONG);
      await put('watched');
      expect(await waiting).toBe(true);
      expect(changes.version).toBeGreaterThan(since);
      // a change made before the wait began is not missed: the wait ends at once
      const before = changes.version;
      await put('watched');
      await new Promise((r) => setTimeout(r, 100));
      expect(await changes.after(before, LONG)).toBe(true);
    } finally {
      changes.close();
    }
  });

  it('watching every job wakes every waiter on any job put', async () => {
    const changes = await JobChanges.open(cluster.jobs);
    try {
      const since = changes.version;
      const waits = [changes.after(since, LONG), changes.after(since, LONG)];
      await put('any-job');
      expect(await Promise.all(waits)).toEqual([true, true]);
    } finally {
      changes.close();
    }
  });

  it('close ends the waits still pending', async () => {
    const changes = await JobChanges.open(cluster.jobs, 'closing');
    const waiting = changes.after(changes.version, LONG);
    changes.close();
    expect(await waiting).toBe(false);
  });
});
