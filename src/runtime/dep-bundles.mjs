// The three packages every flowlm process and worker thread imports (apache-arrow, zod, rxjs) are ~465
// modules: loaded one by one through Node 20's module hooks (ts-hooks.mjs), each is a round trip to the
// hooks thread, a read and a compile, and rxjs's CommonJS build adds a lexer pass per file. Here each
// package is bundled once by esbuild into a few ES modules (its entries plus shared chunks, so a deep
// import such as 'rxjs/operators' shares the classes of 'rxjs'), cached on disk beside the TypeScript
// transforms, and the hooks resolve the package's specifiers to them. Measured: `flowlm worker` start to
// idle exit 2.7 -> 1.5 s of CPU, `flowlm prep` of the embedded corpus 5.5 -> 3.1 s (README, start-up).
// A subpath not bundled is refused by name rather than loaded as a second copy of the package (its
// classes would not be the bundle's: instanceof and Arrow type checks would fail far from the cause).
// FLOWLM_BUNDLE_DEPS=0 turns this off (ts-register.mjs). Plain JavaScript: it runs on the hooks thread.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const FORMAT = 1; // part of the cache key: bump when what is built changes

/** Each bundled package: the subpaths served (the package itself is '.') and the export conditions
 * that choose its ES module build for Node (rxjs's 'node' build is CommonJS, its 'es2015' one is not). */
export const BUNDLED = {
  'apache-arrow': { entries: ['.', './ipc/metadata/file'], conditions: ['node'] },
  zod: { entries: ['.', './mini', './v3', './v4', './v4/mini', './v4/core'], conditions: [] },
  rxjs: { entries: ['.', './operators', './testing', './ajax', './fetch', './webSocket'], conditions: ['es2015'] },
};

/** The package a bare specifier names and its subpath ('.' for the package), or undefined. */
function split(specifier) {
  for (const pkg of Object.keys(BUNDLED)) {
    if (specifier === pkg) return { pkg, sub: '.' };
    if (specifier.startsWith(`${pkg}/`)) return { pkg, sub: `.${specifier.slice(pkg.length)}` };
  }
  return undefined;
}

/** flowlm's own copy of `pkg` (the node_modules directory Node would find from here). */
function packageDir(pkg) {
  for (const nm of createRequire(import.meta.url).resolve.paths(pkg) ?? []) {
    if (existsSync(join(nm, pkg, 'package.json'))) return join(nm, pkg);
  }
  throw new Error(`cannot find ${pkg} in node_modules`);
}

/** Whether a bundle directory holds every file its build wrote (files.json, written last before the rename). */
function complete(out) {
  try {
    return JSON.parse(readFileSync(join(out, 'files.json'), 'utf8')).every((f) => existsSync(join(out, 'out', f)));
  } catch {
    return false;
  }
}

const entryName = (sub) => (sub === '.' ? 'index' : sub.slice(2).replace(/\//g, '-'));

/** Builds `pkg`'s bundle under `root` unless a previous process did: its directory. */
function build(pkg, root, esbuildPath) {
  const spec = BUNDLED[pkg];
  const dir = packageDir(pkg);
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const key = createHash('sha1')
    .update(JSON.stringify([FORMAT, esbuildPath, dir, version, spec, process.versions.node]))
    .digest('hex')
    .slice(0, 16);
  const out = join(root, `${pkg}-${version}-${key}`);
  if (complete(out)) return out;
  // built whole under a temporary name, then renamed: another process sees all of it or none
  const tmp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    mkdirSync(join(tmp, 'src'), { recursive: true });
    const entryPoints = {};
    for (const sub of spec.entries) {
      const name = `${pkg}/${sub.slice(2)}`.replace(/\/$/, '');
      const file = join(tmp, 'src', `${entryName(sub)}.mjs`);
      // every export, and the default one where there is one (undefined where not)
      writeFileSync(file, `import * as m from '${name}';\nexport * from '${name}';\nexport default m.default;\n`);
      entryPoints[entryName(sub)] = file;
    }
    createRequire(esbuildPath)('esbuild').buildSync({
      entryPoints,
      outdir: join(tmp, 'out'),
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'neutral',
      conditions: spec.conditions,
      mainFields: ['module', 'main'],
      nodePaths: [dirname(dir)],
      external: ['node:*', ...builtinModules],
      target: `node${process.versions.node}`,
      legalComments: 'none',
      logLevel: 'silent',
    });
    writeFileSync(join(tmp, 'files.json'), JSON.stringify(readdirSync(join(tmp, 'out'))));
    // a copy with files missing (a temp cleaner's work) is removed and replaced
    if (existsSync(out) && !complete(out)) rmSync(out, { recursive: true, force: true });
    try {
      renameSync(tmp, out);
    } catch (err) {
      if (!complete(out)) throw err; // else another process finished first: its copy is the same
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

/**
 * The file URL serving `specifier` from its package's bundle, undefined when the specifier is not one
 * of a bundled package (or the bundle cannot be built: the package then loads as usual, once, after a
 * line on stderr). Throws for a subpath of a bundled package that is not bundled.
 */
export function bundledFactory(cacheDir, esbuildPath) {
  const built = new Map(); // package -> its bundle directory, or null when it could not be built
  return (specifier) => {
    const s = split(specifier);
    if (!s) return undefined;
    if (!BUNDLED[s.pkg].entries.includes(s.sub))
      throw new Error(
        `'${specifier}' is a part of ${s.pkg} that flowlm does not bundle (flowlm serves ${s.pkg} as one bundle so ` +
          `every module shares its classes; bundled: ${BUNDLED[s.pkg].entries.map((e) => `${s.pkg}${e.slice(1)}`).join(', ')}): ` +
          `import it from one of those, or run with FLOWLM_BUNDLE_DEPS=0`,
      );
    if (!built.has(s.pkg)) {
      try {
        built.set(s.pkg, build(s.pkg, join(cacheDir, 'deps'), esbuildPath));
      } catch (err) {
        built.set(s.pkg, null);
        process.stderr.write(
          `flowlm: could not bundle ${s.pkg} (${String(err?.message ?? err).split('\n')[0]}); loading it module by module\n`,
        );
      }
    }
    const dir = built.get(s.pkg);
    return dir ? pathToFileURL(join(dir, 'out', `${entryName(s.sub)}.mjs`)).href : undefined;
  };
}
