// Registers flowlm's TypeScript hooks (ts-hooks.mjs) in this process or worker thread: bin.js calls it
// before loading the CLI, thread-boot.ts's boot script before a thread's entry module. Plain JavaScript.
import { createRequire, register } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { installStackTraces } from './ts-stack-traces.mjs';

let done = false;

export function registerTs() {
  if (done) return;
  done = true;
  const require = createRequire(import.meta.url);
  // esbuild as tsx installs it (a dependency of flowlm's)
  const esbuild = createRequire(require.resolve('tsx/package.json')).resolve('esbuild/package.json');
  const version = createRequire(esbuild)('./package.json').version;
  let user = 'user';
  try {
    user = String(userInfo().uid);
  } catch {}
  const cacheDir = join(tmpdir(), `flowlm-ts-${user}`, version);
  register(new URL('./ts-hooks.mjs', import.meta.url), {
    // apache-arrow, zod and rxjs as a few bundled modules each, not ~465 (dep-bundles.mjs); large
    // CommonJS packages through shims (cjs-shims.mjs)
    data: { cacheDir, esbuild, bundleDeps: process.env.FLOWLM_BUNDLE_DEPS !== '0' },
  });
  installStackTraces(cacheDir, esbuild); // stack traces name the .ts lines
}
