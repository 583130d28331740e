// Stack traces that name the .ts lines of flowlm's TypeScript, without Node's source-map support:
// with process.setSourceMapsEnabled(true) Node reads and parses the source map of every module as it
// loads, node_modules included (TensorFlow.js's maps are megabytes: ~0.3 s of CPU in each process or
// thread that trains). Here nothing is read at load: when a stack is formatted, each frame in a cached
// TypeScript transform (ts-cache.mjs) is mapped through that transform's map, parsed once per file.
// The text is Node's own (V8's frame, Node's error header), with the position replaced.
import { readFileSync, statSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cachedModule } from './ts-cache.mjs';

const TS = /\.m?ts$/;

/** Node's own errors carry its internal kIsNodeError symbol, on the error or its prototype. */
function isNodeError(error) {
  for (let o = error; o && o !== Error.prototype; o = Object.getPrototypeOf(o))
    if (Object.getOwnPropertySymbols(o).some((s) => s.description === 'kIsNodeError')) return true;
  return false;
}

/** Error.prepareStackTrace for this thread, mapping frames through the transforms' maps. */
export function installStackTraces(cacheDir, esbuild) {
  /** @type {Map<string, SourceMap | null>} */
  const maps = new Map();
  const mapOf = (url) => {
    let sm = maps.get(url);
    if (sm !== undefined) return sm;
    sm = null;
    try {
      const path = fileURLToPath(url);
      const file = `${cachedModule(cacheDir, esbuild, path, statSync(path))}.map`;
      sm = new SourceMap(JSON.parse(readFileSync(file, 'utf8')));
    } catch {} // not transformed here, or changed since: the position as it ran
    maps.set(url, sm);
    return sm;
  };
  const frame = (site) => {
    const text = String(site);
    const url = site.getFileName?.();
    const line = site.getLineNumber?.();
    const col = site.getColumnNumber?.();
    if (typeof url !== 'string' || !url.startsWith('file:') || !TS.test(url) || !line || !col) return text;
    const e = mapOf(url)?.findEntry(line - 1, col - 1);
    if (typeof e?.originalLine !== 'number') return text;
    const from = `${url}:${line}:${col}`;
    const at = text.lastIndexOf(from);
    if (at < 0) return text;
    return `${text.slice(0, at)}${url}:${e.originalLine + 1}:${e.originalColumn + 1}${text.slice(at + from.length)}`;
  };
  Error.prepareStackTrace = (error, trace) => {
    // as Node's default: "Name [CODE]: message" for Node's own errors, else Error.prototype.toString
    let head;
    try {
      head = isNodeError(error)
        ? `${error.name} [${error.code}]: ${error.message}`
        : Error.prototype.toString.call(error);
    } catch {
      head = '<error>';
    }
    return trace.length === 0 ? head : `${head}\n    at ${trace.map(frame).join('\n    at ')}`;
  };
}
