// Clustered prep with a worker SIGSTOPped past ack_wait and resumed after the job ended: its item went to
// another worker, its late result is a duplicate the coordinator ignores, the bytes stay the same.
import { describe, expect, it } from 'vitest';
import { flowlm, lastJson } from '../cli/spawn.ts';
import { expectSameOutput, firstItem } from './corpus.ts';
import { clusterHarness, tookItem } from './harness.ts';

const h = clusterHarness();

describe('flowlm prep --cluster under failures', () => {
  it('a worker SIGSTOPped past ack_wait, resumed after the job: no duplicate, same bytes', async () => {
    const { coord, workers, out } = h.job('pause');
    await workers[0]!.until(tookItem(workers[0]!), 30_000);
    const item = firstItem(workers[0]!.stderr())!;
    workers[0]!.child.kill('SIGSTOP');
    const r = await coord.done;
    expect(r.code, r.stderr).toBe(0);
    expectSameOutput(h.ref, out);
    workers[0]!.child.kill('SIGCONT');
    const late = await workers[0]!.done;
    expect(late.code, late.stderr).toBe(0);
    expect(lastJson(late.stdout).items).toBe(1); // it finished its item late, and reported it
    expectSameOutput(h.ref, out);
    const others = await Promise.all(workers.slice(1).map((w) => w.done));
    expect(others.map((w) => w.stderr).join('')).toMatch(new RegExp(`: item ${item} \\(.*\\), delivery 2`));
    const st = await flowlm(['cluster', 'status', '--cluster', h.nats.url, '--job', 'pause', '--json']);
    const [s] = (lastJson(st.stdout) as { jobs: Array<Record<string, unknown>> }).jobs;
    // 18 done records for 17 items: the late one is not counted twice
    expect(s).toMatchObject({ total: 17, done: 17, parked: [], state: 'complete' });
  }, 90_000);
});
