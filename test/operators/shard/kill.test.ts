// Acceptance: a data-prep job writing shards from the real corpus, killed with SIGKILL at random
// moments and re-run after each kill, ends with a manifest and shard files byte-identical to an
// uninterrupted run (and no temporary file). 5 kills by default; FLOWLM_KILL_TEST_ROUNDS=10 for more.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TS_IMPORT } from '../../cli/spawn.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const JOB = fileURLToPath(new URL('../../fixtures/write-shards-job.ts', import.meta.url));
const ROUNDS = Number(process.env.FLOWLM_KILL_TEST_ROUNDS ?? 5);
const DOCS = '30',
  SEQ = '128',
  SHARD_ROWS = '24';

const root = mkdtempSync(join(tmpdir(), 'flowlm-shard-kill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the job; `killWhen(stdout so far)` (polled every few ms) returning true kills it with SIGKILL. */
function runJob(dir: string, killWhen?: (stdout: string) => boolean): Promise<Run> {
  const child = spawn(process.execPath, ['--import', TS_IMPORT, JOB, dir, DOCS, SEQ, SHARD_ROWS], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '',
    stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = killWhen
    ? setInterval(() => {
        if (killWhen(stdout)) {
          child.kill('SIGKILL');
          clearInterval(timer);
        }
      }, 2)
    : undefined;
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const batchesOut = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('batch ')).length;
const snapshot = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [
        f,
        createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex'),
      ]),
  );

describe('shard/write-shards under SIGKILL', () => {
  it(`killed at ${ROUNDS} random moments and re-run each time, ends byte-identical to an uninterrupted run`, async () => {
    const reference = join(root, 'reference');
    const ok = await runJob(reference);
    expect(ok.code, ok.stderr).toBe(0);
    const want = snapshot(reference);
    const shards = Object.keys(want).filter((f) => f.endsWith('.arrow')).length;
    expect(shards).toBeGreaterThan(10);
    const batches = batchesOut(ok.stdout);

    const dir = join(root, 'killed');
    const moments: string[] = [];
    let killed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // a random moment: once the source has handed out a random number of its batches, plus a random
      // few milliseconds; so kills land before any shard, inside shards being written or verified,
      // between a shard and its record, and around the manifest
      const target = Math.floor(Math.random() * (batches + 1));
      const jitter = Math.random() * 30;
      let reached: number | undefined;
      const run = await runJob(dir, (out) => {
        if (reached === undefined && batchesOut(out) >= target) reached = performance.now();
        return reached !== undefined && performance.now() - reached >= jitter;
      });
      if (run.signal === 'SIGKILL') killed++;
      else expect(run.code, run.stderr).toBe(0); // finished before the moment came
      const temps = existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('.flowlm-tmp-')).length : 0;
      moments.push(
        `${target}/${batches}+${jitter.toFixed(0)}ms:${run.signal ?? run.code}${temps > 0 ? `(${temps} temp left)` : ''}`,
      );
    }
    expect(killed, moments.join(' ')).toBeGreaterThanOrEqual(Math.ceil(ROUNDS / 2));

    const last = await runJob(dir);
    expect(last.code, last.stderr).toBe(0);
    expect(snapshot(dir), moments.join(' ')).toEqual(want);
    if (process.env.FLOWLM_KILL_TEST_VERBOSE) console.log(moments.join(' '));
  }, 120_000);
});
