// The README's TypeScript snippets are checked as a reader would use them: every ```ts block is
// type-checked as its own module importing "flowlm" by name, and the plain-RxJS one is run, so the
// README cannot drift from the API again (it once used lastValueFrom without importing it).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../cli/spawn.ts';

const run = promisify(execFile);

/** The ```ts blocks of a markdown text, in order. */
export function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

// inside the package (so `import ... from 'flowlm'` resolves to this package by its name, as it
// does for a user who installed it) and under out/, which git ignores
mkdirSync(join(ROOT, 'out'), { recursive: true });
const dir = mkdtempSync(join(ROOT, 'out', 'readme-snippets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const blocks = tsBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
const files = blocks.map((code, i) => {
  const f = join(dir, `snippet-${i}.ts`);
  writeFileSync(f, code);
  return f;
});
const failure = (err: unknown) => {
  const e = err as { stdout?: string; stderr?: string; message: string };
  return `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message;
};

describe('README snippets', () => {
  it('has the TypeScript snippets this test expects (a pipeline spec and the plain-RxJS use)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(blocks.some((b) => /export default pipeline\(/.test(b))).toBe(true);
    expect(blocks.some((b) => /from 'rxjs'/.test(b))).toBe(true);
  });

  it("every ```ts snippet type-checks as written (strict, the project's compiler options)", async () => {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.json', include: files.map((f) => f.slice(dir.length + 1)) }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '--noEmit', '-p', join(dir, 'tsconfig.json')], { cwd: ROOT }).then(
      () => 'ok',
      failure,
    );
    expect(r).toBe('ok');
  }, 180_000);

  it('the plain-RxJS snippet runs and normalises its documents', async () => {
    const i = blocks.findIndex((b) => /from 'rxjs'/.test(b));
    // what the snippet computed, printed by a line added after it
    const file = join(dir, 'plain-rxjs-run.ts');
    writeFileSync(file, `${blocks[i]}\nconsole.log(JSON.stringify(out.flatMap((b) => [...b.getChild('text')!])));\n`);
    const r = await run(process.execPath, ['--import', 'tsx', file], { cwd: ROOT }).catch((err: unknown) => ({
      stdout: '',
      stderr: failure(err),
    }));
    expect(r.stderr).toBe('');
    const texts = JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
    expect(texts.length).toBeGreaterThan(0);
    // NFKC folds full-width letters and the ideographic space; whitespace clean-up trims the line end
    for (const t of texts) expect(t).toBe(t.normalize('NFKC').trim());
    expect(texts.join(' ')).not.toMatch(/[\uFF01-\uFF5E\u3000\r]/);
  }, 60_000);
});
