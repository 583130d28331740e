// Runs the real `flowlm` executable (node src/cli/bin.js) as a child process, for the CLI tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
/** `node --import TS_IMPORT file.ts`: a child process running TypeScript under flowlm's own hooks, as the CLI does */
export const TS_IMPORT = fileURLToPath(new URL('../../src/runtime/ts-import.mjs', import.meta.url));
export const spec = (name: string) => fileURLToPath(new URL(`../fixtures/specs/${name}`, import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<CliResult>;
  /** resolves once `test` holds (polled), rejects after `timeoutMs` or if the process ends first */
  until(test: () => boolean, timeoutMs?: number): Promise<void>;
}

export function start(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; command?: string } = {},
): Running {
  const t0 = performance.now();
  const [cmd, argv] = opts.command ? [opts.command, args] : [process.execPath, [BIN, ...args]];
  const child = spawn(cmd, argv, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, FLOWLM_DEBUG: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '',
    err = '';
  let ended = false;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ended = true;
      resolve({ code, signal, stdout: out, stderr: err, ms: performance.now() - t0 });
    });
  });
  const until = async (test: () => boolean, timeoutMs = 20_000) => {
    const deadline = performance.now() + timeoutMs;
    while (!test()) {
      if (ended) throw new Error(`flowlm ended before the condition held\nstdout: ${out}\nstderr: ${err}`);
      if (performance.now() > deadline) throw new Error(`timed out waiting\nstdout: ${out}\nstderr: ${err}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return { child, stdout: () => out, stderr: () => err, done, until };
}

export const flowlm = (args: string[], opts: { cwd?: string; env?: Record<string, string>; command?: string } = {}) =>
  start(args, opts).done;

/** The last non-empty stdout line, parsed as JSON. */
export function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

export const NO_STACK = /^\s+at .+\(.*:\d+:\d+\)$|^\s+at file:/m;
