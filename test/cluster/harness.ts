// The clustered prep fault tests' common part (one scenario per file, so the suite spreads them): a
// real nats-server, State of the Union inputs, the single-process reference run, and a job of one
// coordinator and 3 `flowlm worker` processes with ack_wait 1 s.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { start, type Running } from '../cli/spawn.ts';
import { startNatsServer, type NatsServer } from '../setup/nats-server.ts';
import { firstItem, ITEM_PER_FILE, PREP_FLAGS, referencePrep, sotuInputs } from './corpus.ts';

export interface Harness {
  nats: NatsServer;
  ref: string;
  input: string;
  /** the coordinator's command line for job `name`; ackWait in seconds (1 by default: the failure tests
   * want a dead worker's item redelivered soon) */
  prepArgs(name: string, ackWait?: string): string[];
  job(name: string, ackWait?: string): { coord: Running; workers: Running[]; out: string };
}

export function clusterHarness(): Harness {
  const tmp = mkdtempSync(join(tmpdir(), 'flowlm-prep-cluster-faults-'));
  const h = { ref: join(tmp, 'ref'), input: '' } as Harness;
  beforeAll(async () => {
    h.input = sotuInputs(join(tmp, 'in'));
    [h.nats] = await Promise.all([startNatsServer(), referencePrep(h.input, h.ref)]);
  }, 60_000);
  afterAll(async () => {
    await h.nats?.close();
    rmSync(tmp, { recursive: true, force: true });
  });
  h.prepArgs = (name, ackWait = '1') => [
    'prep',
    '--cluster',
    h.nats.url,
    '--job',
    name,
    '--input',
    h.input,
    '--out',
    join(tmp, name),
    ...PREP_FLAGS,
    ...ITEM_PER_FILE,
    '--ack-wait',
    ackWait,
    '--json',
  ];
  h.job = (name, ackWait) => {
    const coord = start(h.prepArgs(name, ackWait));
    const workers = [0, 1, 2].map(() => start(['worker', '--cluster', h.nats.url, '--job', name, '--json']));
    return { coord, workers, out: join(tmp, name) };
  };
  return h;
}

export const tookItem = (w: Running) => () => firstItem(w.stderr()) !== null;
