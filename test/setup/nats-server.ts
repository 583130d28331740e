// A real `nats-server -js` on 127.0.0.1 for the cluster tests: a free port, a JetStream store in a temp
// directory, stop() and restart() on the same port and store (the streams persist on disk, as a
// restarted server in production keeps them), and kill on exit so no test leaves a server behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/runtime/free-port.ts';

/** The Debian package installs it in /usr/sbin, which a user's PATH may lack. */
export function natsServerBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const p = join(dir, 'nats-server');
    if (existsSync(p)) return p;
  }
  if (existsSync('/usr/sbin/nats-server')) return '/usr/sbin/nats-server';
  throw new Error('nats-server is missing: apt-get install nats-server (npm pretest installs it)');
}

export { freePort };

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** stops the server and removes its store */
  close(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export async function startNatsServer(): Promise<NatsServer> {
  const bin = natsServerBinary();
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'flowlm-nats-'));
  let child: ChildProcess | null = null;
  let log = '';
  const launch = async () => {
    const c = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    c.stderr!.setEncoding('utf8').on('data', (d: string) => {
      log = (log + d).slice(-4000);
    });
    live.add(c);
    child = c;
    const deadline = Date.now() + 10_000;
    // nats-server logs "Server is ready" once JetStream is up; accepting TCP alone can come first
    while (!(log.includes('Server is ready') && (await accepts(port)))) {
      if (c.exitCode !== null) throw new Error(`nats-server exited (${c.exitCode}): ${log}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not start on port ${port}: ${log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const ended = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await ended;
    live.delete(c);
    child = null;
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    async restart() {
      await stop();
      log = '';
      await launch();
    },
    async close() {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
