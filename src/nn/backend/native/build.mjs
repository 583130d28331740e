// Builds the native kernel pack (binding.gyp, gemm.c) with the node-gyp that npm ships. Run by
// `npm ci` (postinstall) and pretest: a missing compiler or libopenblas-dev is not an error there,
// one line says why and wasm runs every kernel. `--required` (npm run build:native) shows the whole
// build log and fails with it; `--if-missing` does nothing when the addon is newer than its sources.
// Plain JavaScript: it runs before tsx is usable.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const addon = join(here, 'build', 'Release', 'flowlm_native.node');
const required = process.argv.includes('--required');
const ifMissing = process.argv.includes('--if-missing');

function skip(reason) {
  const line = `flowlm: native kernels not built (${reason}); tfjs wasm runs every kernel`;
  if (required) {
    console.error(line);
    process.exit(1);
  }
  console.error(line);
  process.exit(0);
}

/** npm's own node-gyp: npm exports its path to lifecycle scripts; else beside the npm on PATH. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  if (process.env.npm_execpath)
    candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => c && existsSync(c));
}

if (process.env.FLOWLM_NATIVE === '0') skip('FLOWLM_NATIVE=0');
if (ifMissing && existsSync(addon)) {
  const built = statSync(addon).mtimeMs;
  if (
    readdirSync(here)
      .filter((f) => /\.(c|h|gyp)$/.test(f))
      .every((f) => statSync(join(here, f)).mtimeMs <= built)
  )
    process.exit(0);
}
const cblas = [
  '/usr/include/x86_64-linux-gnu/cblas.h',
  '/usr/include/aarch64-linux-gnu/cblas.h',
  '/usr/include/cblas.h',
  '/usr/include/openblas/cblas.h',
];
if (!cblas.some((f) => existsSync(f))) skip('no cblas.h: apt-get install libopenblas-dev');
for (const [tool, args] of [
  ['cc', ['--version']],
  ['make', ['--version']],
  ['python3', ['--version']],
]) {
  if (spawnSync(tool, args, { stdio: 'ignore' }).status !== 0)
    skip(`${tool} not found: apt-get install build-essential python3`);
}
const gyp = nodeGyp();
if (!gyp) skip("npm's node-gyp not found");
// Node's own headers when they are installed beside it (Debian's nodejs, the official tarballs), so
// that node-gyp does not download them
const nodedir = dirname(dirname(process.execPath));
const args = [gyp, 'rebuild'];
if (existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodedir}`);
const r = spawnSync(process.execPath, args, { cwd: here, stdio: required ? 'inherit' : 'pipe', encoding: 'utf8' });
if (r.status !== 0) {
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const first = log.split('\n').find((l) => /error|not found|cannot find/i.test(l) && !/^gyp (ERR|info)/.test(l));
  skip(`node-gyp failed${first ? `: ${first.trim().slice(0, 160)}` : ''}`);
}
console.error(`flowlm: native kernels built (${addon})`);
