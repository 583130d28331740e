// Starts a TCP collective group as child processes (test/fixtures/collectives-socket-rank.ts) for the
// socket tests and bench/allreduce.ts: rank 0 on an ephemeral port first, then the others.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SocketRankArgs, SocketRankLine } from '../../fixtures/collectives-socket-rank.ts';
import { TS_IMPORT } from '../../cli/spawn.ts';

const FIXTURE = fileURLToPath(new URL('../../fixtures/collectives-socket-rank.ts', import.meta.url));

export interface ProcessGroup {
  procs: ChildProcess[];
  /** the first line from `rank` satisfying `pred` (rejects if the process exits first or after `ms`) */
  until(rank: number, pred: (l: SocketRankLine) => boolean, ms?: number): Promise<SocketRankLine>;
  stderr(rank: number): string;
  /** resolves with the exit code (null if killed by a signal) when `rank`'s process has exited */
  exited(rank: number): Promise<number | null>;
  kill(): void;
}

export async function spawnGroup(
  worldSize: number,
  args: Omit<SocketRankArgs, 'rank' | 'worldSize' | 'port'>,
): Promise<ProcessGroup> {
  const procs: ChildProcess[] = [];
  const lines: SocketRankLine[][] = [];
  const errs: string[] = [];
  const exited: boolean[] = [];
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const l of [...listeners]) l();
  };
  const start = (rank: number, port: number) => {
    const p = spawn(
      process.execPath,
      ['--import', TS_IMPORT, FIXTURE, JSON.stringify({ ...args, rank, worldSize, port } satisfies SocketRankArgs)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    procs[rank] = p;
    lines[rank] = [];
    errs[rank] = '';
    exited[rank] = false;
    createInterface({ input: p.stdout! }).on('line', (l) => {
      try {
        lines[rank]!.push(JSON.parse(l) as SocketRankLine);
        changed();
      } catch {
        errs[rank] += `${l}\n`;
      }
    });
    p.stderr!.on('data', (d: Buffer) => {
      errs[rank] += d.toString();
    });
    p.on('exit', () => {
      exited[rank] = true;
      changed();
    });
  };
  const until = (rank: number, pred: (l: SocketRankLine) => boolean, ms = 20_000) =>
    new Promise<SocketRankLine>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(
            `rank ${rank}: no such line within ${ms} ms; lines ${JSON.stringify(lines[rank])}; stderr ${errs[rank]}`,
          ),
        );
      }, ms);
      const check = () => {
        const hit = lines[rank]!.find(pred);
        if (hit || exited[rank]) {
          clearTimeout(timer);
          listeners.delete(check);
        }
        if (hit) resolve(hit);
        else if (exited[rank])
          reject(
            new Error(
              `rank ${rank} exited without such a line; lines ${JSON.stringify(lines[rank])}; stderr ${errs[rank]}`,
            ),
          );
      };
      listeners.add(check);
      check();
    });
  const group: ProcessGroup = {
    procs,
    until,
    stderr: (r) => errs[r] ?? '',
    exited: (r) =>
      new Promise((resolve) => {
        const p = procs[r]!;
        if (p.exitCode !== null || p.signalCode !== null) resolve(p.exitCode);
        else p.once('exit', (code) => resolve(code));
      }),
    kill: () => {
      for (const p of procs) if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    },
  };
  try {
    start(0, 0);
    const l = await until(0, (x) => x.kind === 'listening');
    const port = l.kind === 'listening' ? l.port : 0;
    for (let r = 1; r < worldSize; r++) start(r, port);
  } catch (err) {
    group.kill();
    throw err;
  }
  return group;
}
