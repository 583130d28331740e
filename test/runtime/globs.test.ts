// File patterns: one directory or a tree, files only (a link counts by what it points to), sorted within
// a pattern, each file once.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandGlobs, fileKey, stableId } from '../../src/runtime/files.ts';

const dir = mkdtempSync(join(tmpdir(), 'flowlm-globs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
for (const f of ['b.txt', 'a.txt', 'c.md', 'sub/d.txt', 'sub/deep/e.txt']) {
  mkdirSync(join(dir, f, '..'), { recursive: true });
  writeFileSync(join(dir, f), f);
}
mkdirSync(join(dir, 'folder.txt')); // a directory whose name matches
symlinkSync(join(dir, 'sub/d.txt'), join(dir, 'link.txt'));
symlinkSync(join(dir, 'sub'), join(dir, 'dirlink.txt'));

describe('expandGlobs', () => {
  it('lists the files of one directory that match, sorted, without directories or links to them', async () => {
    expect(await expandGlobs([join(dir, '*.txt')])).toEqual(['a.txt', 'b.txt', 'link.txt'].map((f) => join(dir, f)));
  });

  it('walks a tree for ** and keeps each file once across patterns', async () => {
    const got = await expandGlobs([join(dir, '**/*.txt'), join(dir, 'a.txt'), join(dir, '{c.md,b.txt}')]);
    expect(got).toEqual([
      ...['a.txt', 'b.txt', 'link.txt', 'sub/d.txt', 'sub/deep/e.txt'].map((f) => join(dir, f)),
      join(dir, 'c.md'),
    ]);
  });

  it('says which pattern matched nothing', async () => {
    await expect(expandGlobs([join(dir, '*.json')])).rejects.toThrow(/pattern matched no files: .*\*\.json/);
  });
});

describe('fileKey', () => {
  it('is the path relative to the working directory, as path.relative gives it', () => {
    const cwd = process.cwd();
    for (const f of [
      join(cwd, 'a.txt'),
      join(cwd, 'sub/deep/e.txt'),
      `${cwd}x/a.txt`,
      join(cwd, '..', 'elsewhere.txt'),
      join(dir, 'b.txt'),
    ])
      expect(fileKey(f)).toBe(relative(cwd, f));
    expect(fileKey(cwd)).toBe(cwd); // the directory itself: relative() is empty
  });
});

describe('stableId', () => {
  it('is the first 16 hex digits of the key’s sha256, the ids every reader gives documents', () => {
    for (const key of ['docs/a.txt:0', 'https://example.org/ü?q=1', ''])
      expect(stableId(key)).toBe(createHash('sha256').update(key).digest('hex').slice(0, 16));
    expect(stableId('docs/a.txt:0')).not.toBe(stableId('docs/a.txt:1'));
  });
});
