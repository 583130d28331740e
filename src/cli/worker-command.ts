// `flowlm worker --cluster URL`: a worker process of clustered data preparation (src/cluster/worker.ts).
// SIGINT/SIGTERM stop it: the item in hand is not acked and goes to another worker after ack_wait.
import { parseArgs } from 'node:util';
import { runWorker } from '../cluster/worker.ts';
import { checkJobName } from '../cluster/streams.ts';
import { parseClusterUrl } from '../cluster/connect.ts';
import { workerHelp } from './cluster-help.ts';
import { parseCount } from './count-flag.ts';
import { UsageError, type CliIO } from './io.ts';

const OPTIONS = {
  cluster: { type: 'string' },
  job: { type: 'string' },
  workers: { type: 'string' },
  'idle-exit': { type: 'string' },
  'max-items': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const usage = (f: () => unknown) => {
  try {
    return f();
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'worker');
  }
};

export async function workerCommand(argv: string[], io: CliIO): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'worker');
  }
  if (values.help) {
    io.out(workerHelp());
    return 0;
  }
  if (!values.cluster) throw new UsageError('flowlm worker needs --cluster nats://HOST:PORT', 'worker');
  usage(() => parseClusterUrl(values.cluster!));
  if (values.job !== undefined) usage(() => checkJobName(values.job!));
  const seconds = (flag: string, v: string) => {
    if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`--${flag} expects seconds, got "${v}"`, 'worker');
    return Number(v) * 1000;
  };
  const count = (flag: string, v: string | undefined) => {
    try {
      return v === undefined ? undefined : parseCount(flag, v);
    } catch (err) {
      throw new UsageError((err as Error).message, 'worker');
    }
  };
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const r = await runWorker({
      url: values.cluster,
      job: values.job,
      slots: count('workers', values.workers) ?? 1,
      idleExitMs: values['idle-exit'] === undefined ? undefined : seconds('idle-exit', values['idle-exit']),
      maxItems: count('max-items', values['max-items']),
      log: (l) => io.err(l),
      signal: stop.signal,
    });
    if (values.json) io.out(JSON.stringify({ worker: r.id, items: r.items, failures: r.failures }));
    else io.out(`worker ${r.id}: ${r.items} items done, ${r.failures} failures`);
    return stop.signal.aborted ? 130 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
