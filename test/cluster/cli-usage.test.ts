// The clustered commands' command lines, in process: bad usage exits 2 with what to do before anything
// connects, and the help describes every flag.
import { describe, expect, it } from 'vitest';
import { callMain as call } from '../cli/in-process.ts';
import { PREP_CLUSTER_OPTIONS } from '../../src/cli/cluster-help.ts';

describe('clustered commands usage', () => {
  it('rejects bad flags with exit 2 and a pointer to the help', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['worker'], /flowlm worker needs --cluster nats:\/\/HOST:PORT\nsee: flowlm worker --help/],
      [['worker', '--cluster', 'http://x:4222'], /--cluster expects nats:\/\/HOST:PORT .*got "http:\/\/x:4222"/],
      [['worker', '--cluster', 'nats://x:1', '--job', 'a.b'], /--job expects letters, digits, - and _/],
      [['worker', '--cluster', 'nats://x:1', '--idle-exit', 'soon'], /--idle-exit expects seconds, got "soon"/],
      [['worker', '--cluster', 'nats://x:1', '--max-items', '0'], /--max-items expects a positive integer/],
      [
        ['prep', '--job', 'a'],
        /--job, --ack-wait, --max-deliver, --max-ack-pending, --dedup-partitions and --item-bytes need --cluster URL/,
      ],
      [['prep', '--item-bytes', '4M'], /--item-bytes need --cluster URL/],
      [
        ['prep', '--cluster', 'nats://x:1', '--item-bytes', '0'],
        /--item-bytes expects a positive integer \(optionally with k, M/,
      ],
      [['prep', '--cluster', 'nats://x:1', '--item-bytes', '4X'], /--item-bytes expects a positive integer/],
      [['prep', '--cluster', 'nats://x:1', '--ack-wait', '0'], /--ack-wait expects seconds \(0\.1 or more\), got "0"/],
      [['prep', '--cluster', 'nats://x:1', '--max-deliver', 'x'], /--max-deliver expects a positive integer/],
      // --set is validated as flowlm prep validates it, before anything connects
      [['prep', '--cluster', 'nats://x:1', '--set', 'read.x=1'], /steps\[0\]\.config\.x: unknown key; known keys: /],
      [
        ['cluster', 'stats', '--cluster', 'nats://x:1'],
        /expected flowlm cluster status, got "stats"\nsee: flowlm cluster --help/,
      ],
      [['cluster', 'status'], /flowlm cluster status needs --cluster/],
    ];
    for (const [argv, message] of cases) {
      const r = await call(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(message);
    }
  });

  it('the help of prep, run, worker and cluster describes every flag', async () => {
    const prep = (await call(['prep', '--help'])).stdout;
    for (const flag of Object.keys(PREP_CLUSTER_OPTIONS)) expect(prep).toContain(`--${flag}`);
    const run = (await call(['run', '--help'])).stdout;
    for (const flag of Object.keys(PREP_CLUSTER_OPTIONS)) expect(run).toContain(`--${flag}`);
    expect(run).toContain('flowlm run FILE --cluster nats://HOST:PORT');
    const worker = await call(['help', 'worker']);
    expect(worker.code).toBe(0);
    for (const flag of ['--cluster', '--job', '--workers', '--idle-exit', '--max-items', '--json'])
      expect(worker.stdout).toContain(flag);
    const cluster = (await call(['cluster', '--help'])).stdout;
    for (const word of ['status', '--cluster', '--job', '--json', 'ackPending', 'parked'])
      expect(cluster).toContain(word);
    const top = (await call(['--help'])).stdout;
    expect(top).toMatch(/\n {2}worker {4}run work items/);
    expect(top).toMatch(/\n {2}cluster {3}status of clustered prep jobs/);
  });
});
