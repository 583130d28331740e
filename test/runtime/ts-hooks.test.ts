// flowlm's TypeScript hooks (src/runtime/ts-hooks.mjs, registered by ts-register.mjs as bin.js and every
// worker thread do): a fresh Node process imports TypeScript modules with type-only syntax, class fields,
// './x.js' and extensionless specifiers naming .ts files; the transform is cached on disk (with its source
// map beside it, without the sources' text) and redone when the file changes; stack traces name the .ts lines.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runUnderHooks } from './under-hooks.ts';

const dir = mkdtempSync(join(tmpdir(), 'flowlm-ts-hooks-'));
const cache = join(dir, 'tmp');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `main.ts` of `dir` in a fresh process with the hooks registered (TMPDIR: a cache of its own). */
const run = () => runUnderHooks(join(dir, 'main.ts'), cache);
/** The cached transforms (one directory per esbuild version under flowlm-ts-<uid>), each with its map. */
const cached = (): string[] => {
  const root = join(cache, readdirSync(cache).find((d) => d.startsWith('flowlm-ts-'))!);
  const files = readdirSync(root).flatMap((v) => readdirSync(join(root, v)).map((f) => join(root, v, f)));
  const modules = files.filter((f) => f.endsWith('.mjs'));
  expect(files.filter((f) => !f.endsWith('.mjs')).sort()).toEqual(modules.map((f) => `${f}.map`).sort());
  for (const m of modules) {
    const map = JSON.parse(readFileSync(`${m}.map`, 'utf8')) as { sources: string[]; sourcesContent?: unknown };
    expect(map.sources).toHaveLength(1);
    expect(map.sources[0]).toMatch(/\.ts$/);
    expect(map.sourcesContent).toBeUndefined(); // the source is on disk: the map stays small
  }
  return modules;
};

describe('TypeScript hooks', () => {
  it('runs TypeScript, caches the transform and redoes it when a file changes', () => {
    writeFileSync(join(dir, 'shape.ts'), 'export interface Shape { area(): number }\nexport const unit = 1;\n');
    writeFileSync(
      join(dir, 'square.ts'),
      "import type { Shape } from './shape.ts';\nimport { unit } from './shape.js';\n" +
        'export class Square implements Shape {\n  side: number = unit;\n  constructor(s: number) { this.side = s; }\n' +
        '  area(): number { return this.side * this.side; }\n}\n',
    );
    writeFileSync(
      join(dir, 'main.ts'),
      "import { Square } from './square';\nconst s: Square = new Square(3);\nconsole.log(`area ${s.area()}`);\n" +
        "const fail = (): never => { throw new Error('here'); };\ntry { fail(); } catch (e) { console.log((e as Error).stack!.split('\\n')[1]); }\n",
    );
    const first = run();
    expect(first).toMatch(/^area 9\n/);
    expect(first).toMatch(/main\.ts:4:\d+/); // the .ts line of the throw
    const files = cached();
    expect(files.length).toBe(3);
    expect(run()).toBe(first); // from the cache: no new entries
    expect(cached()).toEqual(files);
    writeFileSync(
      join(dir, 'square.ts'),
      'export class Square { constructor(private s: number) {}\n  area(): number { return 2 * this.s; } }\n',
    );
    expect(run()).toMatch(/^area 6\n/);
    expect(cached().length).toBe(4);
  });
  it('transforms a new release of an installed package again, though npm gave its files the same size and mtime', () => {
    const pkg = join(dir, 'node_modules', 'dep');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(dir, 'main.ts'), "import { v } from './node_modules/dep/mod.ts';\nconsole.log(v);\n");
    const release = (version: string, value: string) => {
      writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'dep', version }));
      writeFileSync(join(pkg, 'mod.ts'), `export const v: string = '${value}';\n`);
      for (const f of ['package.json', 'mod.ts']) utimesSync(join(pkg, f), 499162500, 499162500); // as npm sets them
    };
    release('1.0.0', 'aa');
    expect(run().trim()).toBe('aa');
    release('2.0.0', 'bb');
    expect(run().trim()).toBe('bb');
  });
});
