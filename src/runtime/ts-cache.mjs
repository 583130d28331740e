// Where a TypeScript file's transform is cached (ts-hooks.mjs writes it, ts-stack-traces.mjs reads its
// source map): one name per esbuild, cache format, path, its package's version, size and mtime, so a
// changed file, a new release of an installed package (npm gives its files one mtime) or another esbuild
// is transformed again. Plain JavaScript: the hooks thread and every thread that registers them use it.
import { createHash } from 'node:crypto';
import { packageVersion } from './package-version.mjs';

// Source maps live beside the cached module, without the sources' text: with the map inline, Node
// decoded it and scanned every module's whole text (map included) for line lengths as it loaded, ~10%
// of a process's start-up. Part of the key, so a cache of another format is not read.
const FORMAT = 'map-file-1';

/** The cached module's path (its source map: the same plus '.map'). */
export function cachedModule(cacheDir, esbuild, path, stat) {
  const key = createHash('sha1')
    .update(`${esbuild}\0${FORMAT}\0${path}\0${packageVersion(path)}\0${stat.size}\0${stat.mtimeMs}`)
    .digest('hex');
  return `${cacheDir}/${key}.mjs`;
}
