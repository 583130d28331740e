// The processes the cluster bench times: `flowlm prep` alone, or `flowlm prep --cluster` (the
// coordinator) with K `flowlm worker` processes started at the same moment, all as children of the
// bench. A run's time is wall clock from the first spawn to the coordinator's exit (process start-up,
// module loading and, for the cluster, the workers' connection and the merge included: what a user
// waits for); the JSON summary's durationMs (inside the process) is kept too.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));
// how long a coordinator may still take once every worker has ended well (its merge of the last items)
const GRACE_MS = 60_000;

interface Child {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], onStderr?: (text: string) => void, kill?: (k: () => void) => void): Promise<Child> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    kill?.(() => c.kill('SIGTERM'));
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-8000);
      onStderr?.(stderr);
    });
    c.once('error', reject);
    c.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const lastJson = (what: string, c: Child): Record<string, unknown> => {
  const line = c.stdout.trim().split('\n').pop() ?? '';
  if (c.code !== 0 || !line.startsWith('{'))
    throw new Error(`bench cluster: ${what} exited ${c.code}: ${c.stderr.slice(-2000)}`);
  return JSON.parse(line) as Record<string, unknown>;
};

export interface Timed {
  wallMs: number;
  durationMs: number;
  summary: Record<string, unknown>;
}

/** `flowlm prep` in one process (its default worker threads: every core); `input`: prep's input flags. */
export async function single(out: string, input: string[]): Promise<Timed> {
  const t = performance.now();
  const c = await run(['prep', ...input, '--out', out, '--json', '--progress', 'none']);
  const wallMs = performance.now() - t;
  const summary = lastJson('flowlm prep', c);
  return { wallMs, durationMs: Number(summary.durationMs), summary };
}

export interface ClusterShape {
  /** `flowlm worker` processes */
  processes: number;
  /** items each worker process runs at once (flowlm worker --workers) */
  slots: number;
  /** tokenizer threads of each worker process, shared by the items it runs (flowlm prep --workers,
   * carried to the workers in the job's options; 0: the worker's main thread) */
  threads: number;
  /** prep --item-bytes (0: its default) */
  itemBytes: number;
}

/** `flowlm prep --cluster` plus `shape.processes` workers, all started together; `warm`: the workers
 * are started first, serving every job (as long-running workers do), and the time is the coordinator's
 * alone, from its start to its exit (the workers' tokenizer threads still start with the first item);
 * `serve` (prep input flags; implies warm): a job the workers run first, untimed, as workers that have
 * served other jobs before this one are (compiled code, tokenizer caches filled from other text). */
export async function clustered(
  url: string,
  job: string,
  out: string,
  shape: ClusterShape,
  input: string[],
  warm = false,
  serve?: string[],
): Promise<Timed> {
  warm ||= serve !== undefined;
  const stops: Array<() => void> = [];
  const workerArgs = warm
    ? ['worker', '--cluster', url, '--workers', String(shape.slots), '--json']
    : ['worker', '--cluster', url, '--job', job, '--workers', String(shape.slots), '--json'];
  let workers: Array<Promise<Child>> = [];
  if (warm) {
    // ready once each has logged that it loaded and connected
    let ready = 0;
    let onReady = () => {};
    const all = new Promise<void>((r) => (onReady = r));
    workers = Array.from({ length: shape.processes }, () => {
      let seen = false;
      return run(
        workerArgs,
        (err) => {
          if (!seen && err.includes(': ready at ')) {
            seen = true;
            if (++ready === shape.processes) onReady();
          }
        },
        (k) => stops.push(k),
      );
    });
    const early = Promise.race(workers).then((c) => {
      throw new Error(`bench cluster: a warm worker exited (${c.code}) before the job: ${c.stderr.slice(-2000)}`);
    });
    await Promise.race([all, early]);
  }
  if (serve) {
    const c = await run(coordinatorArgs(url, `${job}-served`, `${out}-served`, shape, serve));
    lastJson('flowlm prep --cluster (the job served first)', c);
    rmSync(`${out}-served`, { recursive: true, force: true });
  }
  const t = performance.now();
  let stopCoordinator = () => {};
  const coordinator = run(coordinatorArgs(url, job, out, shape, input), undefined, (k) => (stopCoordinator = k));
  if (!warm) workers = Array.from({ length: shape.processes }, () => run(workerArgs));
  // the coordinator waits for workers as long as it takes: with every worker gone (failed, or ended
  // while the job was not) it would wait forever, so the run fails with the workers' last words (once the
  // coordinator is done this is a no-op: stopping an exited process does nothing, the error is dropped)
  const gone = Promise.all(workers).then(async (ws): Promise<never> => {
    if (ws.every((w) => w.code === 0)) await new Promise((r) => setTimeout(r, GRACE_MS).unref());
    stopCoordinator();
    throw new Error(
      `bench cluster: every worker exited (${ws.map((w) => w.code).join(', ')}) and the job did not end: ` +
        ws.map((w, k) => `worker ${k + 1}: ${w.stderr.slice(-1000)}`).join('\n'),
    );
  });
  gone.catch(() => undefined);
  const c = await Promise.race([coordinator, gone]);
  const wallMs = performance.now() - t;
  for (const stop of stops) stop(); // warm workers serve until stopped (exit 130)
  const done = await Promise.all(workers);
  const summary = lastJson('flowlm prep --cluster', c);
  if (!warm)
    done.forEach((w, k) => {
      // a worker that ran nothing leaves the job to the others: say why, from its own log
      if (Number(lastJson(`flowlm worker ${k + 1}`, w).items) === 0)
        console.log(`flowlm worker ${k + 1} of ${job} ran no item; its log ends: ${w.stderr.slice(-1500)}`);
    });
  return { wallMs, durationMs: Number(summary.durationMs), summary };
}

const coordinatorArgs = (url: string, job: string, out: string, shape: ClusterShape, input: string[]) => [
  'prep',
  ...input,
  '--cluster',
  url,
  '--job',
  job,
  '--out',
  out,
  '--workers',
  String(shape.threads),
  ...(shape.itemBytes > 0 ? ['--item-bytes', String(shape.itemBytes)] : []),
  '--json',
  '--progress',
  'none',
];

/** sha256 of every file under `dir` except the item outputs (.items/), by relative path. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (d === dir && e.name === '.items') continue;
        walk(p);
      } else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
