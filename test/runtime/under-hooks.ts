// A TypeScript file run in a fresh Node process with flowlm's hooks registered (as the CLI registers them),
// TMPDIR pointing at a cache of the test's own: the transforms, bundles and shims it writes go there.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REGISTER = fileURLToPath(new URL('../../src/runtime/ts-register.mjs', import.meta.url));

/** `file`'s stdout; throws (with its stderr) when it exits non-zero. */
export function runUnderHooks(file: string, cache: string, env: Record<string, string> = {}): string {
  return execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `(await import(${JSON.stringify(REGISTER)})).registerTs(); await import(${JSON.stringify(file)});`,
    ],
    { env: { ...process.env, TMPDIR: cache, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}
