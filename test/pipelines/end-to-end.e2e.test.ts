// pipelines/end-to-end.ts as a user runs it, in one `flowlm run`: a loopback crawl of Debian's
// PostgreSQL manual trained in stream mode, and the embedded corpus trained in shards mode (then resumed);
// each run's summary records the physical plan it ran, which must be the one `flowlm plan` prints.
// Stream mode with a slowed trainer: the readers stop at their credit budget (backpressure through the
// shuffle buffer) and memory stays bounded.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowlm, lastJson, spec, start } from '../cli/spawn.ts';
import { serveSite, type StaticSite } from '../fixtures/static-site.ts';
import { expandGlobs } from '../../src/runtime/files.ts';
import { SUBSET_INPUTS } from './prep-subset.ts';

const DOCS = '/usr/share/doc/postgresql-doc-15/html';
let site: StaticSite;
let tmp: string;
beforeAll(async () => {
  site = await serveSite({ mounts: { '/': DOCS } });
  tmp = mkdtempSync(join(tmpdir(), 'flowlm-e2e-'));
});
afterAll(async () => {
  await site.close();
  rmSync(tmp, { recursive: true, force: true });
});

type Summary = {
  ok: boolean;
  step: number;
  startStep: number;
  stepsRun: number;
  val?: { loss: number; perplexity: number; bitsPerByte?: number };
  checkpoint?: string;
  plan: unknown;
  peakRssMb: number;
  nodes: Record<string, { rowsIn: number; rowsOut: number; batchesOut: number }>;
  sources: Record<string, { peakInFlight: number }>;
};

// batches of 2 rows: what these tests check does not depend on the batch size, and a step costs a quarter
const small = [
  '--set',
  'trainer.batchSize=2',
  '--set',
  'trainer.steps=4',
  '--set',
  'trainer.evalEvery=2',
  '--set',
  'trainer.checkpointEvery=2',
  '--set',
  'trainer.evalBatches=2',
];

async function planOf(args: string[]): Promise<unknown> {
  const r = await flowlm(['plan', ...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('pipelines/end-to-end.ts', () => {
  it('stream mode: crawl -> clean -> dedup -> tokenize -> pack -> train -> evaluate -> checkpoint in one run', async () => {
    const out = join(tmp, 'stream');
    const args = [
      'pipelines/end-to-end.ts',
      '--devices',
      'cpu:1',
      '--set',
      `params.out=${out}`,
      '--set',
      'params.input=crawl',
      '--set',
      `crawl.seeds=["${site.origin}/index.html"]`,
      '--set',
      'crawl.maxPages=60',
      ...small,
    ];
    const [plan, r] = await Promise.all([planOf(args), flowlm(['run', ...args, '--json'])]);
    expect(r.code, r.stderr).toBe(0);
    const s = lastJson(r.stdout) as unknown as Summary;
    expect(s.ok).toBe(true);
    expect(s.step).toBe(4);
    expect(s.plan).toEqual(plan);
    // every stage saw data: pages crawled, rows packed, steps trained, evaluated, checkpointed
    expect(s.nodes.crawl!.rowsOut).toBeGreaterThan(10);
    expect(s.nodes.pack!.rowsOut).toBeGreaterThan(64);
    expect(s.nodes['optimizer-step']!.rowsOut).toBeGreaterThan(0);
    expect(s.val!.bitsPerByte).toBeGreaterThan(0);
    expect(existsSync(join(out, 'run', 'step-000004', 'state.json'))).toBe(true);
    const lines = readFileSync(join(out, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; split: string; name: string });
    expect(lines.filter((l) => l.split === 'train' && l.name === 'loss').map((l) => l.step)).toEqual([1, 2, 3, 4]);
    expect(lines.filter((l) => l.split === 'val' && l.name === 'perplexity').map((l) => l.step)).toEqual([2, 4]);
    // stream mode cannot resume: said before anything runs
    const again = await flowlm(['run', ...args, '--resume']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/stream mode cannot resume/);
  }, 300_000);

  // a slice of the embedded corpus (~420 kB of its ~23 MB): shards of every packed row, a few seconds to write
  it('shards mode on the embedded corpus: shards written first, training reads them; stopped, --resume continues', async () => {
    const out = join(tmp, 'shards');
    const args = [
      'pipelines/end-to-end.ts',
      '--devices',
      'cpu:1',
      '--set',
      `params.out=${out}`,
      '--set',
      'params.data=shards',
      '--set',
      `read.paths=${JSON.stringify(SUBSET_INPUTS)}`,
      '--set',
      'trainer.batchSize=2',
      '--set',
      'trainer.steps=6',
      '--set',
      'trainer.evalEvery=3',
      '--set',
      'trainer.checkpointEvery=3',
      '--set',
      'trainer.evalBatches=2',
    ];
    // stopped by SIGTERM during step 3 or later: the ranks stop after a step, with a checkpoint
    const run = start(['run', ...args, '--json']);
    const planned = planOf(args);
    await run.until(() => /step 3\/6/.test(run.stderr()), 240_000);
    run.child.kill('SIGTERM');
    const [r, plan] = await Promise.all([run.done, planned]);
    expect(r.code, r.stderr).toBe(143);
    const s = lastJson(r.stdout) as unknown as Summary & { stopped: boolean };
    expect(s.plan).toEqual(plan);
    expect(s.stopped).toBe(true);
    expect(s.step).toBeGreaterThanOrEqual(3);
    // the shards hold every packed row, written before training began
    const manifest = JSON.parse(readFileSync(join(out, 'shards', 'manifest.json'), 'utf8')) as { rows: number };
    expect(manifest.rows).toBe(s.nodes.pack!.rowsOut);
    expect(s.nodes.shards!.rowsIn).toBe(manifest.rows);
    expect(s.nodes.read!.rowsOut).toBe((await expandGlobs(SUBSET_INPUTS)).length); // one row per file read
    const resumed = await flowlm(['run', ...args, '--resume', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const s2 = lastJson(resumed.stdout) as unknown as Summary;
    expect([s2.startStep, s2.step]).toEqual([s.step, 6]);
    expect(resumed.stderr).toMatch(/1 kept from an earlier run \(verified\)|kept from an earlier run/); // the shards were not written again
    // one metrics log, each step once
    const steps = readFileSync(join(out, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; split: string; name: string })
      .filter((m) => m.split === 'train' && m.name === 'loss')
      .map((m) => m.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
  }, 400_000);

  it('stream mode with a slowed trainer: readers held at their budget, memory bounded', async () => {
    const run = async (pauseMs: number) => {
      const args = [
        'run',
        spec('end-to-end-slow.ts'),
        '--devices',
        'cpu:1',
        '--json',
        '--set',
        `params.out=${join(tmp, `slow-${pauseMs}`)}`,
        '--set',
        `params.pauseMs=${pauseMs}`,
        '--set',
        'trainer.steps=12',
        '--set',
        'trainer.evalEvery=0',
        '--set',
        'trainer.evalBatches=1',
      ];
      const r = await flowlm(args);
      expect(r.code, r.stderr).toBe(0);
      return lastJson(r.stdout) as unknown as Summary;
    };
    // side by side: the slowed run mostly sleeps, and each process's reader is held by its own budget
    const [fast, slow] = await Promise.all([run(0), run(400)]);
    for (const s of [fast, slow]) {
      // the reader never had more than its budget in flight (8), and training stopped it before the
      // end of the corpus (368 files): it was held back, not drained into memory
      expect(s.sources.read!.peakInFlight).toBeLessThanOrEqual(8);
      expect(s.nodes.read!.rowsOut).toBeLessThan(368);
    }
    // slowed, the reader sat at its budget waiting for training
    expect(slow.sources.read!.peakInFlight).toBe(8);
    expect(slow.peakRssMb).toBeLessThan(1.2 * fast.peakRssMb);
  }, 300_000);
});
