// Clustered prep with the coordinator SIGKILLed mid-job and started again with the same command: it
// republishes under the same message ids (the server drops them), and the bytes equal one process's.
import { describe, expect, it } from 'vitest';
import { flowlm, lastJson } from '../cli/spawn.ts';
import { expectSameOutput } from './corpus.ts';
import { clusterHarness, tookItem } from './harness.ts';

const h = clusterHarness();
// no worker dies here: an ack wait long enough that a worker slowed by a loaded machine keeps its item
// (at 1 s, a late heartbeat under load redelivered one), so any second delivery would be the republish's
const ACK_WAIT = '20';

describe('flowlm prep --cluster under failures', () => {
  it('the coordinator SIGKILLed mid-job and started again: republished items deduplicated, same bytes', async () => {
    const { coord, workers, out } = h.job('coordinator', ACK_WAIT);
    // the first worker to take an item (one that started late may find the job done and end: not a failure)
    await Promise.any(workers.map((w) => w.until(tookItem(w), 30_000)));
    coord.child.kill('SIGKILL');
    expect((await coord.done).signal).toBe('SIGKILL');
    const again = await flowlm(h.prepArgs('coordinator', ACK_WAIT));
    expect(again.code, again.stderr).toBe(0);
    expect(lastJson(again.stdout)).toMatchObject({ ok: true, items: 17, parked: [] });
    expectSameOutput(h.ref, out);
    const ws = await Promise.all(workers.map((w) => w.done));
    for (const w of ws) expect(w.code, w.stderr).toBe(0);
    // no item ran twice for the republish: every item's first delivery is the only one
    expect(ws.map((w) => w.stderr).join('')).not.toMatch(/delivery 2/);
  }, 90_000);
});
