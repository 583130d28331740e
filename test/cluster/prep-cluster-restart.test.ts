// Clustered prep with the NATS server restarted mid-job (the streams are on its disk; clients reconnect):
// the manifest and shards equal the single-process bytes.
import { describe, expect, it } from 'vitest';
import { lastJson } from '../cli/spawn.ts';
import { expectSameOutput } from './corpus.ts';
import { clusterHarness, tookItem } from './harness.ts';

const h = clusterHarness();

describe('flowlm prep --cluster under failures', () => {
  it('the NATS server restarted mid-job: clients reconnect, same bytes', async () => {
    const { coord, workers, out } = h.job('restart');
    // the first worker to take an item (one that started late may find the job done and end: not a failure)
    await Promise.any(workers.map((w) => w.until(tookItem(w), 30_000)));
    await h.nats.restart();
    const r = await coord.done;
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ ok: true, items: 17, parked: [] });
    expectSameOutput(h.ref, out);
    for (const w of await Promise.all(workers.map((x) => x.done))) expect(w.code, w.stderr).toBe(0);
  }, 90_000);
});
