// Clustered prep with a worker SIGKILLed at a random moment after it took an item: the item is redelivered
// to another worker after ack_wait, and the manifest and shards equal the single-process bytes.
import { describe, expect, it } from 'vitest';
import { lastJson } from '../cli/spawn.ts';
import { expectSameOutput, firstItem } from './corpus.ts';
import { clusterHarness, tookItem } from './harness.ts';

const h = clusterHarness();

describe('flowlm prep --cluster under failures', () => {
  it('a worker SIGKILLed mid-item: its item is redelivered, same bytes', async () => {
    const { coord, workers, out } = h.job('kill');
    await workers[0]!.until(tookItem(workers[0]!), 30_000);
    const item = firstItem(workers[0]!.stderr())!;
    await new Promise((r) => setTimeout(r, Math.random() * 100)); // a random moment into the item
    workers[0]!.child.kill('SIGKILL');
    const r = await coord.done;
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ ok: true, items: 17, parked: [] });
    expectSameOutput(h.ref, out);
    expect((await workers[0]!.done).signal).toBe('SIGKILL');
    const others = await Promise.all(workers.slice(1).map((w) => w.done));
    for (const w of others) expect(w.code, w.stderr).toBe(0);
    // another worker ran the killed worker's item on its second delivery
    expect(others.map((w) => w.stderr).join('')).toMatch(new RegExp(`: item ${item} \\(.*\\), delivery 2`));
  }, 90_000);
});
