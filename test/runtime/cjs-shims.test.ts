// Large CommonJS packages imported as ES modules through shims (src/runtime/cjs-shims.mjs) in a process
// with flowlm's hooks: '@tensorflow/tfjs' and the NATS client resolve to a cached shim whose named and
// default exports are the very objects require() gives (one instance of the package), the shim is
// written once and reused, and FLOWLM_BUNDLE_DEPS=0 imports the packages as installed. Stack traces
// name the .ts lines without Node's source-map support (which read every dependency's maps at load).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runUnderHooks } from './under-hooks.ts';

// under the repository's node_modules, so that the packages resolve from the test's files
const cacheRoot = fileURLToPath(new URL('../../node_modules/.cache/', import.meta.url));
mkdirSync(cacheRoot, { recursive: true });
const dir = mkdtempSync(join(cacheRoot, 'flowlm-cjs-shims-'));
const cache = join(dir, 'tmp');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (env: Record<string, string> = {}) =>
  JSON.parse(runUnderHooks(join(dir, 'main.ts'), cache, env).trim().split('\n').pop()!) as Record<string, unknown>;

/** The shims written so far, with their modification times. */
const shims = (): Record<string, number> => {
  const root = join(cache, readdirSync(cache).find((d) => d.startsWith('flowlm-ts-'))!);
  return Object.fromEntries(
    readdirSync(root).flatMap((v) => {
      const d = join(root, v, 'cjs');
      try {
        return readdirSync(d).map((f) => [f, statSync(join(d, f)).mtimeMs]);
      } catch {
        return [];
      }
    }),
  );
};

writeFileSync(
  join(dir, 'main.ts'),
  `import * as tf from '@tensorflow/tfjs';
import tfDefault from '@tensorflow/tfjs';
import { jetstream } from '@nats-io/jetstream';
import { createRequire } from 'node:module';
const req = createRequire(import.meta.url);
const installed = req('@tensorflow/tfjs');
const names = (o: object) => Object.keys(o).filter((k) => k !== 'default').sort().join();
const fail = (): never => { throw new Error('here'); };
let at = '';
try { fail(); } catch (e) { at = (e as Error).stack!.split('\\n')[1]!; }
let nodeHead = '';
try { (await import('node:util')).parseArgs({ args: ['--x'], options: {} }); } catch (e) { nodeHead = (e as Error).stack!.split('\\n')[0]!; }
console.log(JSON.stringify({
  tf: import.meta.resolve('@tensorflow/tfjs'),
  nats: import.meta.resolve('@nats-io/jetstream'),
  sameTidy: tf.tidy === installed.tidy,
  sameDefault: tfDefault === installed,
  sameNames: names(tf) === names(installed) && names(installed).length > 400,
  sameJetstream: jetstream === req('@nats-io/jetstream').jetstream,
  at,
  nodeHead,
}));
`,
);

describe('CommonJS packages through shims', () => {
  it('resolve to a cached shim that exports what require() gives, written once', () => {
    const first = run();
    expect(first.tf).toMatch(/\/flowlm-ts-[^/]+\/[^/]+\/cjs\/[0-9a-f]{40}\.mjs$/);
    expect(first.nats).toMatch(/\/cjs\/[0-9a-f]{40}\.mjs$/);
    expect(first).toMatchObject({ sameTidy: true, sameDefault: true, sameNames: true, sameJetstream: true });
    // the .ts line of the throw (line 8), mapped by flowlm's own stack traces
    expect(first.at).toMatch(/main\.ts:8:\d+/);
    // Node's own errors keep their code in the header, as Node prints them
    expect(first.nodeHead).toBe("TypeError [ERR_PARSE_ARGS_UNKNOWN_OPTION]: Unknown option '--x'");
    const written = shims();
    expect(Object.keys(written)).toHaveLength(2);
    expect(run()).toEqual(first);
    expect(shims()).toEqual(written); // reused: not written again
  });

  it('a new release of the package gets a new shim, though npm gave its files the same size and mtime', () => {
    // a stand-in '@tensorflow/tfjs' found first from its own folder: release 1.0.0 exports aa, 2.0.0 bb
    const app = join(dir, 'app');
    const pkg = join(app, 'node_modules', '@tensorflow', 'tfjs');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(app, 'main.ts'),
      "import * as tf from '@tensorflow/tfjs';\nconsole.log(JSON.stringify(Object.keys(tf).sort()));\n",
    );
    const release = (version: string, name: string) => {
      writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs', version, main: 'index.js' }));
      writeFileSync(join(pkg, 'index.js'), `exports.${name} = 1;\n`);
      for (const f of ['package.json', 'index.js']) utimesSync(join(pkg, f), 499162500, 499162500); // as npm sets them
    };
    const names = () => runUnderHooks(join(app, 'main.ts'), cache).trim();
    release('1.0.0', 'aa');
    expect(names()).toBe('["aa","default"]');
    release('2.0.0', 'bb');
    expect(names()).toBe('["bb","default"]');
  });

  it('FLOWLM_BUNDLE_DEPS=0 imports the packages as installed', () => {
    const off = run({ FLOWLM_BUNDLE_DEPS: '0' });
    expect(off.tf).toMatch(/\/node_modules\/@tensorflow\/tfjs\/dist\/tf\.node\.js$/);
    expect(off).toMatchObject({ sameTidy: true, sameDefault: true, sameNames: true, sameJetstream: true });
  });
});
