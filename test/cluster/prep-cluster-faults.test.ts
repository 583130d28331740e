// Clustered prep under failures, each against the single-process bytes (3 `flowlm worker` processes,
// ack_wait 1 s): a worker SIGKILLed at a random moment after it took an item (the item is redelivered
// to another worker), the NATS server restarted mid-job (streams on disk; clients reconnect), a worker
// SIGSTOPped past ack_wait and resumed after the job ended (its late result is a duplicate the
// coordinator ignores, the bytes stay the same).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowlm, lastJson, start, type Running } from '../cli/spawn.ts';
import { startNatsServer, type NatsServer } from '../setup/nats-server.ts';
import { expectSameOutput, firstItem, PREP_FLAGS, referencePrep, sotuInputs } from './corpus.ts';

let nats: NatsServer;
const tmp = mkdtempSync(join(tmpdir(), 'flowlm-prep-cluster-faults-'));
const ref = join(tmp, 'ref');
let input = '';

beforeAll(async () => {
  input = sotuInputs(join(tmp, 'in'));
  [nats] = await Promise.all([startNatsServer(), referencePrep(input, ref)]);
}, 60_000);
afterAll(async () => {
  await nats?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function job(name: string): { coord: Running; workers: Running[]; out: string } {
  const out = join(tmp, name);
  const coord = start([
    'prep',
    '--cluster',
    nats.url,
    '--job',
    name,
    '--input',
    input,
    '--out',
    out,
    ...PREP_FLAGS,
    '--ack-wait',
    '1',
    '--json',
  ]);
  const workers = [0, 1, 2].map(() => start(['worker', '--cluster', nats.url, '--job', name, '--json']));
  return { coord, workers, out };
}

const tookItem = (w: Running) => () => firstItem(w.stderr()) !== null;

describe('flowlm prep --cluster under failures', () => {
  it('a worker SIGKILLed mid-item: its item is redelivered, same bytes', async () => {
    const { coord, workers, out } = job('kill');
    await workers[0]!.until(tookItem(workers[0]!), 30_000);
    const item = firstItem(workers[0]!.stderr())!;
    await new Promise((r) => setTimeout(r, Math.random() * 100)); // a random moment into the item
    workers[0]!.child.kill('SIGKILL');
    const r = await coord.done;
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ ok: true, items: 17, parked: [] });
    expectSameOutput(ref, out);
    expect((await workers[0]!.done).signal).toBe('SIGKILL');
    const others = await Promise.all(workers.slice(1).map((w) => w.done));
    for (const w of others) expect(w.code, w.stderr).toBe(0);
    // another worker ran the killed worker's item on its second delivery
    expect(others.map((w) => w.stderr).join('')).toMatch(new RegExp(`: item ${item} \\(.*\\), delivery 2`));
  }, 90_000);

  it('the NATS server restarted mid-job: clients reconnect, same bytes', async () => {
    const { coord, workers, out } = job('restart');
    await Promise.race(workers.map((w) => w.until(tookItem(w), 30_000)));
    await nats.restart();
    const r = await coord.done;
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ ok: true, items: 17, parked: [] });
    expectSameOutput(ref, out);
    for (const w of await Promise.all(workers.map((x) => x.done))) expect(w.code, w.stderr).toBe(0);
  }, 90_000);

  it('a worker SIGSTOPped past ack_wait, resumed after the job: no duplicate, same bytes', async () => {
    const { coord, workers, out } = job('pause');
    await workers[0]!.until(tookItem(workers[0]!), 30_000);
    const item = firstItem(workers[0]!.stderr())!;
    workers[0]!.child.kill('SIGSTOP');
    const r = await coord.done;
    expect(r.code, r.stderr).toBe(0);
    expectSameOutput(ref, out);
    workers[0]!.child.kill('SIGCONT');
    const late = await workers[0]!.done;
    expect(late.code, late.stderr).toBe(0);
    expect(lastJson(late.stdout).items).toBe(1); // it finished its item late, and reported it
    expectSameOutput(ref, out);
    const others = await Promise.all(workers.slice(1).map((w) => w.done));
    expect(others.map((w) => w.stderr).join('')).toMatch(new RegExp(`: item ${item} \\(.*\\), delivery 2`));
    const st = await flowlm(['cluster', 'status', '--cluster', nats.url, '--job', 'pause', '--json']);
    const [s] = (lastJson(st.stdout) as { jobs: Array<Record<string, unknown>> }).jobs;
    // 18 done records for 17 items: the late one is not counted twice
    expect(s).toMatchObject({ total: 17, done: 17, parked: [], state: 'complete' });
  }, 90_000);

  it('the coordinator SIGKILLed mid-job and started again: republished items deduplicated, same bytes', async () => {
    const { coord, workers, out } = job('coordinator');
    await Promise.race(workers.map((w) => w.until(tookItem(w), 30_000)));
    coord.child.kill('SIGKILL');
    expect((await coord.done).signal).toBe('SIGKILL');
    const again = await flowlm([
      'prep',
      '--cluster',
      nats.url,
      '--job',
      'coordinator',
      '--input',
      input,
      '--out',
      out,
      ...PREP_FLAGS,
      '--ack-wait',
      '1',
      '--json',
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(lastJson(again.stdout)).toMatchObject({ ok: true, items: 17, parked: [] });
    expectSameOutput(ref, out);
    const ws = await Promise.all(workers.map((w) => w.done));
    for (const w of ws) expect(w.code, w.stderr).toBe(0);
    // no item ran twice for the republish: every item's first delivery is the only one
    expect(ws.map((w) => w.stderr).join('')).not.toMatch(/delivery 2/);
  }, 90_000);
});
