// A connection to the NATS server of a clustered job. Reconnects forever (a server restarted mid-job is
// survived: the work-queue and done streams are on the server's disk, so nothing is lost while it is
// away), and every request that fails while it is away is retried by the caller (retry.ts).
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { JOBS_BUCKET } from './streams.ts';
import { retry } from './retry.ts';

export interface Cluster {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  jobs: KV;
  close(): Promise<void>;
}

/** `nats://host:port` (several, comma-separated, for a NATS cluster) -> the servers to dial. */
export function parseClusterUrl(url: string): string[] {
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (servers.length === 0) throw new Error('--cluster expects a NATS URL such as nats://127.0.0.1:4222');
  for (const s of servers)
    if (!/^(nats|tls):\/\/[^/\s]+$/.test(s))
      throw new Error(`--cluster expects nats://HOST:PORT (comma-separated for several servers), got "${s}"`);
  return servers;
}

export async function connectCluster(url: string, name: string, waitMs = 30_000): Promise<Cluster> {
  const servers = parseClusterUrl(url);
  // the first connect is retried for `waitMs` (workers may start before the server); once connected,
  // reconnects are unbounded
  const nc = await retry(
    () =>
      connect({
        servers,
        name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout: 2000,
      }),
    waitMs,
    `cannot reach the NATS server at ${url} (is nats-server -js running there?)`,
  );
  // a request lost with a restarting server fails after this and is retried (retry.ts): short, so a
  // restart costs about this much, not more
  const js = jetstream(nc, { timeout: 2000 });
  const jsm = await retry(() => jetstreamManager(nc, { timeout: 2000 }), waitMs, `JetStream at ${url}`);
  const jobs = await retry(() => new Kvm(js).create(JOBS_BUCKET, { history: 1 }), waitMs, `the ${JOBS_BUCKET} bucket`);
  return {
    nc,
    js,
    jsm,
    jobs,
    async close() {
      await nc.drain().catch(() => nc.close());
    },
  };
}
