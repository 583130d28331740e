// Tensor parallelism across processes: two ranks as child processes joined over TCP on loopback
// (socketCollective, rank 0 on an ephemeral port) give the single-device run's losses (Gpt +
// trainStep on the same batches) within 1e-6 relative at every one of 20 AdamW steps with clipping.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { referenceRun, STEPS } from './fixtures/tensor-run.ts';
import type { TensorSocketArgs, TensorSocketLine } from './fixtures/tensor-socket-rank.ts';
import { TS_IMPORT } from '../../cli/spawn.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/tensor-socket-rank.ts', import.meta.url));

beforeAll(async () => {
  await initBackend({ announce: false, headThread: false });
});

const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});

/** Starts a rank; resolves each line it prints, in order, through `onLine`; rejects its promise on exit without `done`. */
function startRank(args: TensorSocketArgs, onLine: (l: TensorSocketLine) => void): Promise<TensorSocketLine> {
  const p = spawn(process.execPath, ['--import', TS_IMPORT, FIXTURE, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(p);
  let stderr = '';
  p.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: p.stdout! }).on('line', (text) => {
      const l = JSON.parse(text) as TensorSocketLine;
      onLine(l);
      if (l.kind === 'done' || l.kind === 'failed') resolve(l);
    });
    p.on('exit', (code) => reject(new Error(`rank ${args.rank} exited (${code}) without a result; stderr: ${stderr}`)));
  });
}

describe('tensor parallelism over TCP', () => {
  it('TP 2 as two processes on 127.0.0.1: the single-device losses at every one of 20 steps', async () => {
    const ref = referenceRun(1);
    let listening!: (port: number) => void;
    const port = new Promise<number>((r) => {
      listening = r;
    });
    const first = startRank({ rank: 0, worldSize: 2, port: 0 }, (l) => {
      if (l.kind === 'listening') listening(l.port);
    });
    const second = startRank({ rank: 1, worldSize: 2, port: await port }, () => {});
    for (const l of await Promise.all([first, second])) {
      if (l.kind !== 'done') throw new Error(`rank failed: ${JSON.stringify(l)}`);
      expect(l.losses).toHaveLength(STEPS);
      for (let s = 0; s < STEPS; s++)
        expect(Math.abs(l.losses[s]! - ref.losses[s]!) / ref.losses[s]!, `rank ${l.rank}, step ${s}`).toBeLessThan(
          1e-6,
        );
    }
  });
});
