// A nats-server with JetStream for the cluster bench: a free port on 127.0.0.1, a temp store directory,
// ready once the server logs "Server is ready" (accepting TCP alone can come before JetStream is up);
// stop() ends it and removes the store. Killed on exit so an interrupted bench leaves no server behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/runtime/free-port.ts';

export interface BenchNats {
  url: string;
  /** the server's process id (its CPU time: /proc/PID/stat) */
  pid: number;
  stop(): Promise<void>;
}

/** The Debian package installs nats-server in /usr/sbin, which a user's PATH often lacks. */
function binary(): string {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin'];
  for (const d of dirs) if (existsSync(join(d, 'nats-server'))) return join(d, 'nats-server');
  throw new Error('bench cluster: nats-server is missing: apt-get install nats-server');
}

export async function startBenchNats(): Promise<BenchNats> {
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'flowlm-bench-nats-'));
  const child: ChildProcess = spawn(binary(), ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    log = (log + d).slice(-4000);
  });
  const deadline = Date.now() + 15_000;
  while (!log.includes('Server is ready')) {
    if (child.exitCode !== null) throw new Error(`bench cluster: nats-server exited (${child.exitCode}): ${log}`);
    if (Date.now() > deadline) {
      kill();
      throw new Error(`bench cluster: nats-server did not start on port ${port} within 15 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const ended = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await ended;
      }
      process.off('exit', kill);
      rmSync(store, { recursive: true, force: true });
    },
  };
}
