// `flowlm run FILE --cluster`: a prep pipeline file of its own (test/cluster/prep-gpt2.ts: GPT-2 ids, rows of
// 128, dedup ignoring punctuation) with --set overrides, run by a coordinator and 2 `flowlm worker` processes
// on a real nats-server: the workers load the file by its path, and the shards and manifest equal
// `flowlm run FILE --set ...` in one process, byte for byte.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, start } from '../cli/spawn.ts';
import { callMain as call } from '../cli/in-process.ts';
import { startNatsServer, type NatsServer } from '../setup/nats-server.ts';
import { expectSameOutput, punctuationCopy, sotuInputs } from './corpus.ts';

const FILE = fileURLToPath(new URL('./prep-gpt2.ts', import.meta.url));
let nats: NatsServer;
const tmp = mkdtempSync(join(tmpdir(), 'flowlm-run-cluster-'));

beforeAll(async () => {
  nats = await startNatsServer();
}, 60_000);
afterAll(async () => {
  await nats?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('flowlm run FILE --cluster', () => {
  it('a prep pipeline file with --set: 2 workers give the bytes of one process', async () => {
    const dir = join(tmp, 'in');
    const glob = sotuInputs(dir);
    punctuationCopy(dir);
    const [ref, out] = [join(tmp, 'ref'), join(tmp, 'out')];
    const sets = (d: string) => ['--set', `read.paths=${JSON.stringify([glob])}`, '--set', `write.dir=${d}`];
    const one = await call(['run', FILE, ...sets(ref), '--json', '--progress', 'none']);
    expect(one.code, one.stderr).toBe(0);
    expect(lastJson(one.stdout).nodes).toMatchObject({ dedup: { dropReasons: { exact_duplicate: 4 } } });
    const coord = start([
      'run',
      FILE,
      '--cluster',
      nats.url,
      '--job',
      'spec',
      ...sets(out),
      '--item-bytes',
      '40k',
      '--ack-wait',
      '20',
      '--json',
    ]);
    const workers = [0, 1].map(() => start(['worker', '--cluster', nats.url, '--job', 'spec', '--json']));
    const r = await coord.done;
    expect(r.code, r.stderr).toBe(0);
    // 3 copies and the one without commas: the file's dedup (punctuation ignored) ran in the cluster
    expect(lastJson(r.stdout)).toMatchObject({ ok: true, job: 'spec', duplicates: 4, parked: [] });
    expectSameOutput(ref, out);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ encoding: 'gpt2', seqLen: 128 });
    for (const w of await Promise.all(workers.map((w) => w.done))) expect(w.code, w.stderr).toBe(0);
  }, 90_000);

  it('refuses what it cannot split, before connecting: exit 2 and why', async () => {
    const EXTRA = fileURLToPath(new URL('./prep-extra-step.ts', import.meta.url));
    const cases: Array<[string[], RegExp]> = [
      [
        ['run', EXTRA, '--cluster', 'nats://127.0.0.1:1'],
        /builds the steps read .* -> quality \(clean\/quality\) -> tokenize .*: their configs may differ, not the steps/,
      ],
      [['prep', '--cluster', 'nats://127.0.0.1:1', '--decontaminate', 'lambada'], /cannot decontaminate/],
      // partitions hold no generations: a dedup that forgets cannot be split with one index's result
      [
        ['prep', '--cluster', 'nats://127.0.0.1:1', '--dedup-partitions', '2', '--set', 'dedup.onFull=evict'],
        /--dedup-partitions 2 cannot split a dedup that forgets \(dedup\.onFull 'evict'\)/,
      ],
      [
        [
          'prep',
          '--cluster',
          'nats://127.0.0.1:1',
          '--dedup-partitions',
          '3',
          '--near-dup',
          '0.8',
          '--set',
          'near-dedup.onFull=evict',
        ],
        /--dedup-partitions 3 cannot split a dedup that forgets \(near-dedup\.onFull 'evict'\)/,
      ],
      [
        ['run', 'pipelines/train-tiny.json', '--cluster', 'nats://127.0.0.1:1'],
        /exports no prepSpec\(options\) function/,
      ],
      [['run', FILE, '--job', 'x'], /--job: need --cluster URL/],
      [['run', FILE, '--cluster', 'nats://127.0.0.1:1', '--devices', 'cpu:2'], /--cluster does not take --devices/],
      [['run', FILE, '--cluster', 'nats://127.0.0.1:1', '--set', 'read.x=1'], /steps\[0\]\.config\.x: unknown key/],
      [
        [
          'prep',
          FILE,
          '--cluster',
          'nats://127.0.0.1:1',
          '--out',
          join(tmp, 'a'),
          '--set',
          `write.dir=${join(tmp, 'b')}`,
        ],
        /--out .*\/a, but the pipeline writes its shards to .*\/b \(write\.dir\): give one directory/,
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await call(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(message);
    }
  });
});
