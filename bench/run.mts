// `npm run bench -- NAME [args]`: runs bench/NAME.ts, whose default export prints figures and returns
// one object; that object is printed as the last stdout line (JSON).
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const dir = fileURLToPath(new URL('.', import.meta.url));
const name = process.argv[2];
const known = readdirSync(dir)
  .filter((f) => (f.endsWith('.ts') || f.endsWith('.mts')) && f !== 'run.mts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.m?ts$/, ''));
if (!name || !known.includes(name)) {
  console.error(`usage: npm run bench -- NAME [args]\nbenchmarks: ${known.join(', ')}`);
  process.exit(2);
}
const file = [join(dir, `${name}.ts`), join(dir, `${name}.mts`)].find((f) => existsSync(f));
if (!file) process.exit(2);
const mod = (await import(pathToFileURL(file).href)) as {
  default: (args: string[]) => Promise<Record<string, unknown>>;
};
const result = await mod.default(process.argv.slice(3));
console.log(JSON.stringify(result));
