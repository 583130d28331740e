// apache-arrow, zod and rxjs served from bundles (src/runtime/dep-bundles.mjs) in a process with flowlm's
// hooks (as bin.js and every worker thread register them): the specifiers resolve into the bundle
// cache, a deep import shares its package's classes, the bundles are built once and reused, a subpath
// that is not bundled is refused by name, and FLOWLM_BUNDLE_DEPS=0 loads the packages as installed.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runUnderHooks } from './under-hooks.ts';

// under the repository's node_modules, so that with the bundles off the packages resolve as installed
const cacheRoot = fileURLToPath(new URL('../../node_modules/.cache/', import.meta.url));
mkdirSync(cacheRoot, { recursive: true });
const dir = mkdtempSync(join(cacheRoot, 'flowlm-dep-bundles-'));
const cache = join(dir, 'tmp');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `file` of `dir` in a fresh process with the hooks registered (TMPDIR: a cache of its own). */
const run = (file: string, env: Record<string, string> = {}) => runUnderHooks(join(dir, file), cache, env);

/** The bundle directories built so far, with their modification times. */
const bundles = (): Record<string, number> => {
  const root = join(cache, readdirSync(cache).find((d) => d.startsWith('flowlm-ts-'))!);
  const deps = readdirSync(root).map((v) => join(root, v, 'deps'));
  return Object.fromEntries(
    deps.flatMap((d) => readdirSync(d).map((b) => [b, statSync(join(d, b, 'out', 'index.mjs')).mtimeMs])),
  );
};

writeFileSync(
  join(dir, 'main.ts'),
  `import { Schema, tableFromArrays, tableToIPC } from 'apache-arrow';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import { from, map, lastValueFrom, toArray } from 'rxjs';
import { map as mapOp } from 'rxjs/operators';
import zDefault, { z } from 'zod';
// an Arrow file's footer, decoded by the deep import: its schema must be the package's Schema class
const bytes = tableToIPC(tableFromArrays({ a: Int32Array.from([1, 2]) }), 'file');
const len = new DataView(bytes.buffer, bytes.byteOffset).getInt32(bytes.length - 10, true);
const footer = Footer.decode(bytes.subarray(bytes.length - 10 - len, bytes.length - 10));
const doubled = await lastValueFrom(from([1, 2]).pipe(mapOp((x: number) => 2 * x), toArray()));
console.log(JSON.stringify({
  arrow: import.meta.resolve('apache-arrow'),
  rxjs: import.meta.resolve('rxjs/operators'),
  zod: import.meta.resolve('zod'),
  footerSchema: footer.schema instanceof Schema && footer.schema.fields[0]!.name === 'a',
  sameMap: map === mapOp,
  doubled,
  zodDefault: zDefault === z && z.number().parse(3) === 3,
}));
`,
);
writeFileSync(join(dir, 'deep.ts'), "import 'apache-arrow/util/bn';\n");

describe('bundled dependencies', () => {
  it('serves apache-arrow, zod and rxjs from bundles built once, deep imports sharing their classes', () => {
    const first = JSON.parse(run('main.ts')) as Record<string, unknown>;
    for (const [pkg, url] of Object.entries({ arrow: first.arrow, rxjs: first.rxjs, zod: first.zod }))
      expect(url, pkg).toMatch(
        /\/flowlm-ts-[^/]+\/[^/]+\/deps\/(apache-arrow|rxjs|zod)-[\d.]+-[0-9a-f]{16}\/out\/\w+\.mjs$/,
      );
    expect(first).toMatchObject({ footerSchema: true, sameMap: true, doubled: [2, 4], zodDefault: true });
    const built = bundles();
    expect(
      Object.keys(built)
        .map((b) => b.replace(/-[\d.]+-[0-9a-f]{16}$/, ''))
        .sort(),
    ).toEqual(['apache-arrow', 'rxjs', 'zod']);
    expect(JSON.parse(run('main.ts'))).toEqual(first); // the same bundles, not built again
    expect(bundles()).toEqual(built);
    // a bundle missing one of its files (as a temp cleaner leaves it) is built again, not imported broken
    const arrow = first.arrow as string;
    const outDir = dirname(fileURLToPath(arrow));
    const chunk = readdirSync(outDir).find((f) => f.startsWith('chunk-'))!;
    unlinkSync(join(outDir, chunk));
    expect(JSON.parse(run('main.ts'))).toEqual(first);
    expect(existsSync(join(outDir, chunk))).toBe(true);
  });

  it('refuses a subpath it does not bundle, naming it and the way out', () => {
    let err = '';
    try {
      run('deep.ts');
    } catch (e) {
      err = String((e as { stderr?: string }).stderr);
    }
    expect(err).toContain("'apache-arrow/util/bn' is a part of apache-arrow that flowlm does not bundle");
    expect(err).toContain('FLOWLM_BUNDLE_DEPS=0');
    // loaded as installed, the same subpath works
    expect(run('deep.ts', { FLOWLM_BUNDLE_DEPS: '0' })).toBe('');
  });

  it('loads the packages as installed with FLOWLM_BUNDLE_DEPS=0', () => {
    const plain = JSON.parse(run('main.ts', { FLOWLM_BUNDLE_DEPS: '0' })) as Record<string, string>;
    expect(plain.arrow).toMatch(/\/node_modules\/apache-arrow\/Arrow\.node\.mjs$/);
    expect(plain.zod).toMatch(/\/node_modules\/zod\/index\.js$/);
    expect(plain).toMatchObject({ footerSchema: true, sameMap: true, doubled: [2, 4], zodDefault: true });
  });
});
