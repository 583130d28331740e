// `flowlm prep --cluster` end to end: a real nats-server, the coordinator and 3 `flowlm worker`
// processes, the 17 input files grouped into items of up to 40 kB (--item-bytes); the manifest and every shard equal single-process `flowlm prep` bytes (duplicates that span
// workers' items dropped as one process drops them, by 3 dedup partitions run as work items after the
// input items), `flowlm cluster status` counts the items, and the
// same command again finds every item done.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowlm, lastJson, start } from '../cli/spawn.ts';
import { startNatsServer, type NatsServer } from '../setup/nats-server.ts';
import { expectSameOutput, nearCopies, PREP_FLAGS, referencePrep, sotuInputs } from './corpus.ts';
import { callMain as call } from '../cli/in-process.ts';
import { planItems } from '../../pipelines/prep-cluster.ts';

/** A command in this process (status and resumed runs: no CLI start-up to pay). */

let nats: NatsServer;
const tmp = mkdtempSync(join(tmpdir(), 'flowlm-prep-cluster-'));
const ref = join(tmp, 'ref');
let input = '';
let refJson: Record<string, unknown> = {};
// nothing fails here: an ack wait long enough that a worker slowed by a loaded machine keeps its item, so
// the item counts below are exact (the failure tests use 1 s)
const STEADY = ['--ack-wait', '20'];
const ITEM_BYTES = ['--item-bytes', '40k'];

beforeAll(async () => {
  input = sotuInputs(join(tmp, 'in'));
  [nats, refJson] = await Promise.all([startNatsServer(), referencePrep(input, ref)]);
}, 60_000);
afterAll(async () => {
  await nats?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('flowlm prep --cluster', () => {
  it('3 workers give the single-process bytes; cluster status counts the items', async () => {
    const out = join(tmp, 'out');
    // the item size is honoured: 17 files of 8-18 kB in a few items of whole files
    const plan = await planItems({ inputs: [input] }, 40 * 1024);
    const n = plan.length;
    expect(n).toBeGreaterThan(3);
    expect(n).toBeLessThan(10);
    const coord = start([
      'prep',
      '--cluster',
      nats.url,
      '--job',
      'plain',
      '--input',
      input,
      '--out',
      out,
      ...PREP_FLAGS,
      ...ITEM_BYTES,
      ...STEADY,
      '--dedup-partitions',
      '3',
      '--json',
    ]);
    const workers = [0, 1, 2].map(() => start(['worker', '--cluster', nats.url, '--job', 'plain', '--json']));
    const r = await coord.done;
    expect(r.code, r.stderr).toBe(0);
    const s = lastJson(r.stdout);
    expect(s).toMatchObject({ ok: true, job: 'plain', items: n, skipped: 0, parked: [], dedupPartitions: 3 });
    // the same documents, duplicates, tokens and rows as one process
    expect(s.documents).toBe(refJson.documents);
    expect(s.duplicates).toBe(3);
    expect(s.rows).toBe(refJson.rows);
    expectSameOutput(ref, out);
    const ws = await Promise.all(workers.map((w) => w.done));
    const items = ws.map((w) => {
      expect(w.code, w.stderr).toBe(0);
      return lastJson(w.stdout).items as number;
    });
    expect(items.reduce((a, b) => a + b, 0)).toBe(n + 3); // the input items, then the dedup partitions
    expect(r.stderr).toContain(`cluster: ${n}/${n} items done, 0 pending, 0 failures, 0 parked (`);
    expect(r.stderr).toMatch(/cluster: 3\/3 dedup partitions done, 0 pending, 0 failures, 0 parked/);

    const st = await call(['cluster', 'status', '--cluster', nats.url, '--job', 'plain', '--json']);
    expect(st.code, st.stderr).toBe(0);
    const [job] = (lastJson(st.stdout) as { jobs: Array<Record<string, unknown>> }).jobs;
    expect(job).toMatchObject({
      job: 'plain',
      state: 'complete',
      total: n,
      done: n,
      pending: 0,
      ackPending: 0,
      parked: [],
    });
    // status lists the workers of input items (a worker may have run only a dedup partition)
    expect((job!.workers as unknown[]).length).toBe(ws.filter((w) => /: item \d+ \(/.test(w.stderr)).length);

    // the same command again resumes the finished job: every item verifies on disk, nothing runs
    const again = await flowlm([
      'prep',
      '--cluster',
      nats.url,
      '--job',
      'plain',
      '--input',
      input,
      '--out',
      out,
      ...PREP_FLAGS,
      ...ITEM_BYTES,
      '--dedup-partitions',
      '3',
      '--json',
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(lastJson(again.stdout)).toMatchObject({ ok: true, skipped: n });
    expect(again.stderr).toMatch(/3 dedup partitions, 0 published/);
    expectSameOutput(ref, out);
  }, 90_000);

  it('--near-dup with 2 dedup partitions: 2 workers drop the near copies one process drops, same bytes', async () => {
    const dir = join(tmp, 'near-in');
    const glob = sotuInputs(dir);
    const planted = nearCopies(dir);
    const [one, out] = [join(tmp, 'near-ref'), join(tmp, 'near-out')];
    const refNear = await referencePrep(glob, one, ['--near-dup', '0.8']);
    expect(refNear).toMatchObject({ ok: true });
    const coord = start([
      'prep',
      '--cluster',
      nats.url,
      '--job',
      'near',
      '--input',
      glob,
      '--out',
      out,
      ...PREP_FLAGS,
      ...ITEM_BYTES,
      ...STEADY,
      '--near-dup',
      '0.8',
      '--dedup-partitions',
      '2',
      '--json',
    ]);
    const workers = [0, 1].map(() => start(['worker', '--cluster', nats.url, '--job', 'near', '--json']));
    const r = await coord.done;
    expect(r.code, r.stderr).toBe(0);
    const s = lastJson(r.stdout);
    // exact keys and LSH band keys both split over 2 dedup partitions, run by the workers
    expect(s).toMatchObject({
      ok: true,
      duplicates: 3,
      nearDuplicates: planted,
      documents: refNear.documents,
      dedupPartitions: 2,
    });
    expect(s.documents).toBe(14);
    expectSameOutput(one, out);
    for (const w of await Promise.all(workers.map((w) => w.done))) expect(w.code, w.stderr).toBe(0);
  }, 90_000);
});
