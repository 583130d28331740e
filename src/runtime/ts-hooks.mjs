// Module hooks that run flowlm's TypeScript: a `.ts`/`.mts` file is transformed by esbuild (type syntax
// stripped, nothing else) and the result cached on disk by path, size, mtime and package version
// (ts-cache.mjs), so a process loads cached JavaScript after the first run. Everything else goes to Node's own loader untouched. Plain
// JavaScript: it runs on Node's hooks thread, before any TypeScript can load.
// Why not tsx's hooks: tsx resolves every import (node_modules included) through its own logic; this
// handles only TypeScript files, and a process starts with ~0.6 s less CPU (bench in the README).
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { shimFactory } from './cjs-shims.mjs';
import { cachedModule } from './ts-cache.mjs';
import { bundledFactory } from './dep-bundles.mjs';

/** @type {{ cacheDir: string, esbuild: string, bundleDeps: boolean }} */
let opts;
/** @type {any} */
let esbuild;
/** @type {(specifier: string) => string | undefined} */
let bundled = () => undefined;
/** @type {(specifier: string, parentURL: string | undefined) => string | undefined} */
let shimmed = () => undefined;

export function initialize(data) {
  opts = data;
  if (opts.bundleDeps) {
    bundled = bundledFactory(opts.cacheDir, opts.esbuild); // dep-bundles.mjs
    shimmed = shimFactory(opts.cacheDir); // cjs-shims.mjs
  }
  try {
    mkdirSync(opts.cacheDir, { recursive: true });
  } catch {} // no cache: every process transforms what it loads
}

const TS = /\.m?ts$/;
// the compiler options that change what esbuild emits, as tsconfig.json sets them (tsx reads them there)
const tsconfigRaw = { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } };

function transform(path, stat) {
  const cached = cachedModule(opts.cacheDir, opts.esbuild, path, stat);
  try {
    return readFileSync(cached, 'utf8');
  } catch {}
  esbuild ??= createRequire(opts.esbuild)('esbuild');
  const out = esbuild.transformSync(readFileSync(path, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: `node${process.versions.node}`,
    sourcemap: 'external',
    sourcesContent: false,
    sourcefile: path,
    tsconfigRaw,
  });
  // the map's path for debuggers and --enable-source-maps (not a file: URL: Node 20 reads a map only from a
  // data: URL or a path); flowlm's own stack traces find it by name (ts-stack-traces.mjs)
  const code = `${out.code}//# sourceMappingURL=${pathToFileURL(`${cached}.map`).pathname}\n`;
  // whole or not at all: another process may read either at any moment; the map goes first, so a
  // cached module always finds its map
  const suffix = `${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(`${cached}.map.${suffix}`, out.map);
    renameSync(`${cached}.map.${suffix}`, `${cached}.map`);
    writeFileSync(`${cached}.${suffix}`, code);
    renameSync(`${cached}.${suffix}`, cached);
  } catch {} // an unwritable cache only costs the transform next time
  return code;
}

export async function resolve(specifier, context, next) {
  const url = bundled(specifier) ?? shimmed(specifier, context.parentURL);
  if (url) return { url, format: 'module', shortCircuit: true };
  try {
    return await next(specifier, context);
  } catch (err) {
    // as tsx allows: './x.js' naming x.ts, or './x' without an extension, from a TypeScript file
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !/^\.{1,2}\//.test(specifier) || !TS.test(context.parentURL ?? ''))
      throw err;
    for (const alt of [specifier.replace(/\.(m?)js$/, '.$1ts'), `${specifier}.ts`, `${specifier}/index.ts`]) {
      if (alt === specifier) continue;
      try {
        return await next(alt, context);
      } catch {}
    }
    throw err;
  }
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !TS.test(url)) return next(url, context);
  const path = fileURLToPath(url);
  return { format: 'module', source: transform(path, statSync(path)), shortCircuit: true };
}
