// Large CommonJS packages that flowlm imports as ES modules (TensorFlow.js: 1.3 MB in one file; the NATS
// client's re-exports across its files) cost Node 20 a lexer pass over their whole source at every
// import, to find the names to export (~0.45 s of CPU per process or thread that imports tfjs, against
// ~0.25 s for loading it with require()). Here such a specifier resolves to a small ES module, cached on
// disk beside the TypeScript transforms, that require()s the package and exports its names: the names are
// read once, by requiring the package on the hooks thread the first time (keyed by the entry file's path,
// its package's version, size and mtime), and the package is the same instance anyone else require()s.
// Plain JavaScript: it runs on the hooks thread.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageVersion } from './package-version.mjs';

const FORMAT = 1; // part of the cache key: bump when the shim's text changes

/** The CommonJS packages served through a shim. */
export const SHIMMED = new Set([
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  '@nats-io/jetstream',
  '@nats-io/kv',
  '@nats-io/transport-node',
]);

/** A resolver: the shim's URL for a shimmed specifier imported from `parentURL`, else undefined. */
export function shimFactory(cacheDir) {
  const byPath = new Map();
  return (specifier, parentURL) => {
    if (!SHIMMED.has(specifier) || !parentURL?.startsWith('file:')) return undefined;
    const require = createRequire(parentURL);
    let path;
    try {
      path = require.resolve(specifier);
    } catch {
      return undefined; // not installed: Node's own resolution reports it
    }
    const known = byPath.get(path);
    if (known) return known;
    const st = statSync(path);
    // npm gives every installed file the same mtime: the package's version tells one release from another
    const key = createHash('sha1')
      .update(`${FORMAT}\0${path}\0${packageVersion(path)}\0${st.size}\0${st.mtimeMs}`)
      .digest('hex');
    const dir = join(cacheDir, 'cjs');
    const file = join(dir, `${key}.mjs`);
    if (!existsSync(file)) {
      const names = Object.keys(require(path)).filter((n) => n !== 'default');
      // each name through a local binding, exported under its own name as a string (any name is valid)
      const src =
        "import { createRequire } from 'node:module';\n" +
        `const m = createRequire(${JSON.stringify(path)})(${JSON.stringify(path)});\n` +
        'export default m;\n' +
        names.map((n, i) => `const v${i} = m[${JSON.stringify(n)}];\n`).join('') +
        (names.length ? `export { ${names.map((n, i) => `v${i} as ${JSON.stringify(n)}`).join(', ')} };\n` : '');
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
      writeFileSync(tmp, src);
      renameSync(tmp, file); // whole or not at all: another process may read it at any moment
    }
    const url = pathToFileURL(file).href;
    byPath.set(path, url);
    return url;
  };
}
