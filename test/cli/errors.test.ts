// How `flowlm run` fails: invalid specs (exit 2, every problem with its path), an operator failing on
// bad input (exit 1, the operator and the byte offset named, nothing half-written left), internal
// errors (exit 1, one line; the stack only with FLOWLM_DEBUG=1).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flowlm, lastJson, NO_STACK, ROOT, spec } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-cli-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Issue = { path: string; message: string };

describe('invalid specs exit 2 listing every problem', () => {
  it('a TypeScript spec: unknown operator, bad config, schema mismatch, dangling node, bad --set', async () => {
    const r = await flowlm([
      'run',
      spec('invalid.ts'),
      '--json',
      '--set',
      'ghost.threshold=0.5',
      '--set',
      'clean.form=NFKC',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(NO_STACK);
    const expected: Array<[string, RegExp]> = [
      ['--set ghost.threshold=0.5', /unknown node "ghost" \(nodes: nums, clean, lost, dedup, write\)/],
      ['nodes.dedup.op', /unknown operator "dedup\/no-such-operator" \(known: .*ingest\/read-text/],
      ['nodes.write.config.path', /expected string/],
      ['nodes.lost', /dangling node/],
      ['edges[0]', /nums -> clean: column "text" \(Utf8\) is missing/],
    ];
    expect(r.stderr).toMatch(/^invalid pipeline .*invalid\.ts: 5 problems\n/);
    for (const [path, message] of expected) {
      const line = r.stderr.split('\n').find((l) => l.startsWith(`  - ${path}: `));
      expect(line, `stderr lists ${path}`).toMatch(message);
    }
    const j = lastJson(r.stdout) as { ok: boolean; issues: Issue[] };
    expect(j.ok).toBe(false);
    expect(j.issues.map((i) => i.path).sort()).toEqual(expected.map(([p]) => p).sort());
  });

  it('a JSON spec: a cycle, configs, an unknown operator and an edge to a missing node', async () => {
    const r = await flowlm(['run', spec('invalid-graph.json'), '--progress', 'none']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(NO_STACK);
    for (const [path, message] of [
      ['nodes.read.config.paths', /expected array to have >=1 items/],
      ['nodes.read.config.unit', /"file"\|"paragraph"/],
      ['nodes.b.config.form', /"NFC"\|"NFKC"\|"none"/],
      ['nodes.mystery.op', /unknown operator "clean\/does-not-exist"/],
      ['edges[3]', /names unknown node "ghost"/],
      ['edges', /cycle: (a -> c -> a|c -> a -> c)/],
    ] as const)
      expect(r.stderr).toMatch(new RegExp(`\\n  - ${path.replace(/[[\]]/g, '\\$&')}: .*${message.source}`));
  });

  it('a spec file that is missing or not JSON', async () => {
    const bad = join(tmp, 'broken.json');
    writeFileSync(bad, '{ "steps": [ { "id": "read", } ] }');
    const [missing, notJson] = await Promise.all([
      flowlm(['run', join(tmp, 'nope.ts')]),
      flowlm(['run', bad, '--json']),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`(file): no such spec file: ${join(tmp, 'nope.ts')}`);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/\(file\): not valid JSON: .*position \d+/);
    expect((lastJson(notJson.stdout) as { issues: Issue[] }).issues[0]!.path).toBe('(file)');
  });
});

describe('failures at run time exit 1', () => {
  it('invalid UTF-8: names the operator, file and byte offset; the sink leaves nothing behind', async () => {
    const data = join(tmp, 'text');
    const outDir = join(tmp, 'utf8-out');
    mkdirSync(data);
    writeFileSync(
      join(data, 'a-good.txt'),
      'Call me Ishmael. Some years ago, never mind how long precisely.\n\nIt is a way I have of driving off the spleen.\n',
    );
    const bytes = Buffer.concat([
      Buffer.from('Whenever I find myself growing grim about the mouth.\n\nThen I account it high time to get to sea '),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(' as soon as I can.\n'),
    ]);
    writeFileSync(join(data, 'b-bad.txt'), bytes);
    const args = (out: string) => [
      'run',
      spec('moby-small.ts'),
      '--json',
      '--progress',
      'none',
      '--set',
      `read.paths=["${join(data, '*.txt')}"]`,
      '--set',
      'read.batchRows=1',
      '--set',
      `write.path=${out}`,
    ];
    const [r, skip] = await Promise.all([
      flowlm([...args(join(outDir, 'docs.jsonl')), '--set', 'read.onError=fail']),
      flowlm(args(join(tmp, 'skipped.jsonl'))),
    ]);
    // by default the reader skips the bad paragraph, counts it and logs where it was (on stderr)
    expect(skip.code).toBe(0);
    expect(
      (lastJson(skip.stdout) as { nodes: Record<string, { dropReasons: Record<string, number> }> }).nodes.read!
        .dropReasons['invalid UTF-8'],
    ).toBe(1);
    expect(skip.stderr).toMatch(
      new RegExp(`^\\[read\\] skipped: .*b-bad\\.txt, line 3, byte ${bytes.indexOf(0xff)}: invalid UTF-8`, 'm'),
    );
    expect(r.code).toBe(1);
    const j = lastJson(r.stdout) as {
      ok: boolean;
      nodes: Record<string, { rowsIn: number }>;
      error: { operator: string; op: string; message: string; location: { file: string; offset: number } };
    };
    expect(j.ok).toBe(false);
    expect(j.error.operator).toBe('read');
    expect(j.error.op).toBe('ingest/read-text');
    expect(resolve(ROOT, j.error.location.file)).toBe(join(data, 'b-bad.txt')); // relative to the run's directory
    expect(j.error.location.offset).toBe(bytes.indexOf(0xff));
    expect(j.error.message).toContain('invalid UTF-8');
    // rows from the good file reached the sink before the failure, and were not kept
    expect(j.nodes.write!.rowsIn).toBeGreaterThan(0);
    expect(readdirSync(outDir)).toEqual([]);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^flowlm: moby-small failed after [\\d.]+ s: \\[read\\] at .*b-bad\\.txt, (line 3, )?byte ${bytes.indexOf(0xff)}: invalid UTF-8.*\\(operator ingest/read-text\\)$`,
      ),
    );
  });

  it('an internal error is one line; FLOWLM_DEBUG=1 adds the stack', async () => {
    const [plain, debug] = await Promise.all([
      flowlm(['run', spec('broken.ts'), '--json'], { cwd: tmp }),
      flowlm(['run', spec('broken.ts')], { cwd: tmp, env: { FLOWLM_DEBUG: '1' } }),
    ]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toBe(
      'flowlm: internal error: TypeError: fixture bug: cannot compute the output schema (FLOWLM_DEBUG=1 shows the stack)\n',
    );
    expect(lastJson(plain.stdout)).toMatchObject({
      ok: false,
      error: { internal: true, message: 'fixture bug: cannot compute the output schema' },
    });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(NO_STACK);
    expect(debug.stderr).toContain('fixtures/ops/broken.ts');
    expect(existsSync(join(tmp, 'out'))).toBe(false);
  });
});
