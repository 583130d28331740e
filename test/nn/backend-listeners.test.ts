// The wasm backend's Emscripten glue adds process listeners that rethrow an uncaught error or an
// unhandled rejection from inside its minified module source: a failed run then printed ~30 KB of it.
// initBackend removes them, so Node reports the error itself (its message and stack, exit code 1).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, TS_IMPORT } from '../cli/spawn.ts';

const run = promisify(execFile);
const script = `
import { initBackend } from './src/nn/backend/backend.ts';
const before = [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
await initBackend({ announce: false, force: 'wasm' });
console.log(JSON.stringify({ before, after: [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')] }));
void Promise.reject(new Error('a stray rejection after a failed run'));
`;

describe('initBackend (wasm)', () => {
  it('leaves no Emscripten process listeners: a stray rejection is reported by Node, not by the module', async () => {
    const r = await run(process.execPath, ['--import', TS_IMPORT, '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, FLOWLM_BACKEND: 'wasm' },
    }).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    const counts = JSON.parse(r.stdout.trim().split('\n')[0]!) as { before: number[]; after: number[] };
    expect(counts.after).toEqual(counts.before);
    expect(r.stderr).toMatch(/Error: a stray rejection after a failed run/);
    expect(r.stderr).not.toMatch(/WasmBackendModule/);
    expect(r.stderr.length).toBeLessThan(4000);
  }, 60_000);
});
