// Two pipeline stages as separate processes over TCP on loopback (ephemeral ports: stage 0 listens
// for every group and reports its ports, stage 1 is started with them) against one device's
// trainStep with the same 4 micro-batches as accumulation steps, 20 steps (dropout 0). The tied wte
// gradient is summed per micro-batch (tiedSum 'micro-batch', one device's order), so the losses are
// one device's bits; the per-step sum is checked to 1e-6 on threads (pipeline-threads.test.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { pipelineGroups } from '../../../src/nn/parallel/pipeline-p2p.ts';
import { expectLosses, referenceLosses, STEPS } from './fixtures/pipeline-expect.ts';
import type { PipelineSocketArgs, PipelineSocketLine } from './fixtures/pipeline-socket-rank.ts';
import { TS_IMPORT } from '../../cli/spawn.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/pipeline-socket-rank.ts', import.meta.url));
const procs: ChildProcess[] = [];

/** Starts a stage; `onLine` sees each JSON line it prints; resolves with its last line at exit. */
function start(args: PipelineSocketArgs, onLine: (l: PipelineSocketLine) => void): Promise<PipelineSocketLine> {
  const p = spawn(process.execPath, ['--import', TS_IMPORT, FIXTURE, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(p);
  let err = '';
  let last: PipelineSocketLine | undefined;
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  createInterface({ input: p.stdout! }).on('line', (text) => {
    try {
      last = JSON.parse(text) as PipelineSocketLine;
      onLine(last);
    } catch {
      err += `${text}\n`;
    }
  });
  return new Promise((resolve, reject) =>
    p.on('close', (code) =>
      last ? resolve(last) : reject(new Error(`stage ${args.stage} exited (${code}) with no result: ${err}`)),
    ),
  );
}

afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill();
});

describe('pipeline parallelism across processes (TCP)', () => {
  beforeAll(async () => {
    await initBackend({ announce: false, headThread: false });
  });

  it("PP=2, M=4: two processes give one device's losses, bit for bit, over 20 steps", async () => {
    const base = { stages: 2, steps: STEPS, micro: 4, tiedSum: 'micro-batch' as const };
    // every group of two stages has stage 0 first: it listens for all of them
    const wanted = pipelineGroups(2, 1).filter((g) => g.members.length > 1).length;
    const ports: Record<string, number> = {};
    let allListening!: () => void;
    const listening = new Promise<void>((r) => (allListening = r));
    const first = start({ ...base, stage: 0, ports: {} }, (l) => {
      if (l.kind !== 'listening') return;
      ports[l.group] = l.port;
      if (Object.keys(ports).length === wanted) allListening();
    });
    await Promise.race([listening, first.then((l) => Promise.reject(new Error(JSON.stringify(l))))]);
    const second = start({ ...base, stage: 1, ports }, () => undefined);
    const want = referenceLosses(4);
    const lines = await Promise.all([first, second]);
    const replies = lines.map((l) => {
      if (l.kind === 'done') return { kind: 'done' as const, stage: l.stage, dpRank: 0, results: l.results };
      if (l.kind === 'failed') return { kind: 'failed' as const, stage: l.stage, dpRank: 0, message: l.message };
      throw new Error(`unexpected last line ${JSON.stringify(l)}`);
    });
    expectLosses(replies, want, true);
    expect(Object.keys(ports).sort()).toEqual(['bwd:0:0', 'emb:0', 'fwd:0:0', 'pipe:0']);
  });
});
