// The first file that glob patterns name, found synchronously: readers whose declared schema comes from
// their input (Parquet, Arrow IPC) read it from this file when a pipeline is validated.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { globToRegExp } from './files.ts';

/** The file `expandGlobs(patterns)` would list first; throws when the first pattern names none. */
export function firstMatch(patterns: readonly string[], cwd = process.cwd()): string {
  const p = patterns[0];
  if (p === undefined) throw new Error('no input paths given');
  const abs = resolve(cwd, p);
  if (!/[*?{]/.test(p)) {
    if (!existsSync(abs)) throw new Error(`no such file: ${abs}`);
    return abs;
  }
  const firstMagic = abs.search(/[*?{]/);
  const root = abs.slice(0, abs.lastIndexOf(sep, firstMagic));
  const re = globToRegExp(
    abs
      .slice(root.length + 1)
      .split(sep)
      .join('/'),
  );
  const entries = existsSync(root) ? readdirSync(root, { recursive: true, encoding: 'utf8' }) : [];
  const first = entries
    .map((e) => e.split(sep).join('/'))
    .filter((e) => re.test(e))
    .sort()
    .map((e) => join(root, e))
    .find((f) => statSync(f).isFile());
  if (!first) throw new Error(`pattern matched no files: ${p}`);
  return first;
}
