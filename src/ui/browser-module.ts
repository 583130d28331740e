// The browser's copy of a TypeScript module (chart-spec.ts): its types stripped by esbuild, which is
// always installed with tsx (flowlm runs its TypeScript sources through tsx, bin.js), so the dashboard
// and the report share one spec builder without a build step. Vendor bundles: vega's own minified
// browser builds from node_modules; nothing is fetched from a network.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Esbuild = typeof import('esbuild');

const require_ = createRequire(import.meta.url);
let esbuild: Esbuild | undefined;
const loadEsbuild = (): Esbuild => {
  if (!esbuild) esbuild = createRequire(require_.resolve('tsx/package.json'))('esbuild') as Esbuild;
  return esbuild;
};

const cache = new Map<string, string>();

/** A TypeScript module of this folder as browser JavaScript (an ES module; `export` kept). */
export function browserModule(file: string): string {
  let js = cache.get(file);
  if (js === undefined) {
    const path = fileURLToPath(new URL(file, import.meta.url));
    js = loadEsbuild().transformSync(readFileSync(path, 'utf8'), {
      loader: 'ts',
      format: 'esm',
      target: 'es2020',
      sourcefile: file,
    }).code;
    cache.set(file, js);
  }
  return js;
}

/** The same module as a classic script that sets `globalThis[name]` (for the report's inline scripts). */
export function browserGlobal(file: string, name: string): string {
  const path = fileURLToPath(new URL(file, import.meta.url));
  return loadEsbuild().transformSync(readFileSync(path, 'utf8'), {
    loader: 'ts',
    format: 'iife',
    globalName: name,
    target: 'es2020',
    sourcefile: file,
  }).code;
}

/** The browser bundles the pages load, in order (vega-lite and vega-embed read the globals before them):
 * file name -> [package, file in the folder of its main module]. */
export const VENDOR: Record<string, readonly [string, string]> = {
  'vega.min.js': ['vega', 'vega.min.js'],
  'vega-lite.min.js': ['vega-lite', 'vega-lite.min.js'],
  'vega-embed.min.js': ['vega-embed', 'vega-embed.min.js'],
};

const vendorCache = new Map<string, string>();

export function vendorFile(name: string): string | undefined {
  const entry = Object.hasOwn(VENDOR, name) ? VENDOR[name] : undefined;
  if (entry === undefined) return undefined;
  let text = vendorCache.get(name);
  if (text === undefined) {
    // each package's main module lies in its build/ folder, next to the minified browser bundle
    text = readFileSync(join(dirname(require_.resolve(entry[0])), entry[1]), 'utf8');
    vendorCache.set(name, text);
  }
  return text;
}
