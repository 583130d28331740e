// Acceptance: `flowlm prep` (the real executable, tokenizing on 2 worker threads) killed with SIGKILL at
// a random moment and run again ends with a manifest and shard files byte-identical to an uninterrupted
// run, and no temporary file. 4 kills by default; FLOWLM_KILL_TEST_ROUNDS=10 for the full measurement
// (FLOWLM_KILL_TEST_VERBOSE=1 prints the moments).
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sotuTexts } from '../../operators/ingest/embedded-corpus.ts';
import { start } from './spawn.ts';

const ROUNDS = Number(process.env.FLOWLM_KILL_TEST_ROUNDS ?? 4);
const root = mkdtempSync(join(tmpdir(), 'flowlm-prep-kill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// State of the Union addresses 2000-2018 (~0.8 MB): a few seconds, most of them starting up; ~10 shards
// of ~64 kB, so a kill finds several complete, one being written, or the manifest being assembled
const INPUT = join(dirname(sotuTexts()), '20*.txt');
const args = (out: string) => [
  'prep',
  '--input',
  INPUT,
  '--out',
  out,
  '--seq-len',
  '128',
  '--shard-bytes',
  '64k',
  '--workers',
  '2',
  '--progress',
  'none',
];
const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
const snapshot = (dir: string) =>
  Object.fromEntries(
    entries(dir)
      .sort()
      .map((f) => [
        f,
        createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex'),
      ]),
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs prep into `out`; with `killAfter`, kills it with SIGKILL that many ms after its first file appears. */
async function prep(
  out: string,
  killAfter?: number,
): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  writingMs?: number;
  totalMs: number;
}> {
  const t0 = performance.now();
  const run = start(args(out));
  let ended = false;
  let firstFile: number | undefined;
  void run.done.then(() => {
    ended = true;
  });
  while (!ended) {
    if (firstFile === undefined && entries(out).length > 0) firstFile = performance.now();
    if (killAfter !== undefined && firstFile !== undefined && performance.now() - firstFile >= killAfter) {
      run.child.kill('SIGKILL');
      break;
    }
    await sleep(3);
  }
  const r = await run.done;
  const end = performance.now();
  return {
    code: r.code,
    signal: r.signal,
    stderr: r.stderr,
    totalMs: end - t0,
    ...(firstFile !== undefined ? { writingMs: end - firstFile } : {}),
  };
}

describe('flowlm prep under SIGKILL', () => {
  it(`killed at ${ROUNDS} random moments and run again each time, ends byte-identical to an uninterrupted run`, async () => {
    const reference = join(root, 'reference');
    const ok = await prep(reference);
    expect(ok.code, ok.stderr).toBe(0);
    const want = snapshot(reference);
    expect(Object.keys(want).filter((f) => f.endsWith('.arrow')).length).toBeGreaterThan(5);
    expect(Object.keys(want)).toContain('manifest.json');
    // kills land anywhere from the first file written to past the end of an uninterrupted run (runs
    // are slower or faster as the machine is busy): inside shards being written, between a shard and
    // its record, around the manifest. A run that ends before its moment comes is run again with
    // another moment (within the time that run took), so every round is a kill.
    let span = (ok.writingMs ?? ok.totalMs) * 1.2;

    const moments: string[] = [];
    let killed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const dir = join(root, `killed-${round}`);
      for (let attempt = 0; attempt < 8; attempt++) {
        const at = Math.random() * span;
        const first = await prep(dir, at);
        const left = entries(dir);
        moments.push(
          `round ${round}: ${at.toFixed(0)}/${span.toFixed(0)} ms: ${first.signal ?? `exit ${first.code}`} (${left.filter((f) => f.endsWith('.arrow')).length} shards, ${left.filter((f) => f.startsWith('.flowlm-tmp-')).length} temp, manifest ${left.includes('manifest.json')})`,
        );
        if (first.signal === 'SIGKILL') {
          killed++;
          break;
        }
        expect(first.code, first.stderr).toBe(0); // it finished before the moment came
        span = Math.min(span, first.writingMs ?? span);
        rmSync(dir, { recursive: true, force: true });
      }
      const again = await prep(dir);
      expect(again.code, again.stderr).toBe(0);
      expect(snapshot(dir), moments.join('\n')).toEqual(want);
    }
    expect(killed, moments.join('\n')).toBe(ROUNDS);
    if (process.env.FLOWLM_KILL_TEST_VERBOSE) console.log(moments.join('\n'));
  }, 600_000);
});
