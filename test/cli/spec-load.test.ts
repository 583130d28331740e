// Spec files and --set overrides (src/graph/load.ts), without spawning the CLI.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpecError } from '../../src/core/errors.ts';
import { applyOverrides, loadSpecFile, parseOverride, withBudget } from '../../src/graph/load.ts';
import { validatePipeline } from '../../src/graph/validate.ts';
import { spec } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-spec-load-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

const steps = () =>
  deepFreeze({
    name: 't',
    steps: [
      { id: 'read', op: 'ingest/read-text', config: { paths: ['a.txt', 'b.txt'], unit: 'paragraph' } },
      { id: 'write', op: 'io/write-jsonl', config: { path: 'out.jsonl' } },
    ],
  });

describe('parseOverride', () => {
  it('parses JSON values and keeps anything else as a string', () => {
    expect(parseOverride('read.minChars=100')).toEqual({
      node: 'read',
      path: ['minChars'],
      value: 100,
      text: 'read.minChars=100',
    });
    expect(parseOverride('a.b.c=true')).toMatchObject({ node: 'a', path: ['b', 'c'], value: true });
    expect(parseOverride('a.list=["x",1]')).toMatchObject({ value: ['x', 1] });
    expect(parseOverride('a.s="007"')).toMatchObject({ value: '007' });
    expect(parseOverride('a.s=007')).toMatchObject({ value: '007' }); // not JSON (leading zero): a string
    expect(parseOverride('w.path=out/a=b.jsonl')).toMatchObject({ path: ['path'], value: 'out/a=b.jsonl' });
    expect(parseOverride('w.path=')).toMatchObject({ value: '' });
  });

  it('reports malformed overrides with their text as the path', () => {
    for (const bad of ['read', 'read=1', '.x=1', 'read..x=1', 'read.x.=1']) {
      const r = parseOverride(bad);
      expect(r).toEqual({ path: `--set ${bad}`, message: expect.stringContaining('expected node.key=value') });
    }
  });
});

describe('removing a key (~node.key)', () => {
  it('removes the key from a copy, so the schema default applies; bad forms and missing keys are issues', () => {
    const original = steps();
    const { spec: s, issues } = applyOverrides(original, ['~read.unit', 'write.path=x.jsonl']);
    expect(issues).toEqual([]);
    const read = (s as { steps: { id: string; config: Record<string, unknown> }[] }).steps[0]!.config;
    expect(read).toEqual({ paths: ['a.txt', 'b.txt'] });
    expect('unit' in read).toBe(false);
    expect(original.steps[0]!.config).toEqual({ paths: ['a.txt', 'b.txt'], unit: 'paragraph' });
    expect(parseOverride('~read.unit')).toMatchObject({ node: 'read', path: ['unit'], remove: true });
    for (const bad of ['~read', '~read.unit=1', '~.x'])
      expect(parseOverride(bad)).toMatchObject({ message: expect.stringContaining('expected ~node.key') });
    expect(applyOverrides(original, ['~read.nothing']).issues[0]!.message).toMatch(/read has no key "nothing"/);
  });
});

describe('applyOverrides', () => {
  it('sets config keys in steps and nodes forms, nested and in lists, without touching the original', () => {
    const original = steps();
    const { spec: s, issues } = applyOverrides(original, [
      'read.minChars=40',
      'read.paths.1=c.txt',
      'read.opts.deep.x=1',
      'write.path=o2.jsonl',
    ]);
    expect(issues).toEqual([]);
    expect(s).toEqual({
      name: 't',
      steps: [
        {
          id: 'read',
          op: 'ingest/read-text',
          config: { paths: ['a.txt', 'c.txt'], unit: 'paragraph', minChars: 40, opts: { deep: { x: 1 } } },
        },
        { id: 'write', op: 'io/write-jsonl', config: { path: 'o2.jsonl' } },
      ],
    });
    expect(original.steps[0]!.config.paths).toEqual(['a.txt', 'b.txt']);

    const graph = deepFreeze({ nodes: { read: { op: 'x/y' } }, edges: [] });
    expect(applyOverrides(graph, ['read.k=v']).spec).toEqual({
      nodes: { read: { op: 'x/y', config: { k: 'v' } } },
      edges: [],
    });
  });

  it('collects every override it cannot apply, with the node ids it knows', () => {
    const { spec: s, issues } = applyOverrides(steps(), [
      'ghost.x=1',
      'read.unit.x=1',
      'read.paths.9=z',
      'write.path=ok.jsonl',
      'nope',
    ]);
    expect(issues.map((i) => i.path)).toEqual([
      '--set ghost.x=1',
      '--set read.unit.x=1',
      '--set read.paths.9=z',
      '--set nope',
    ]);
    expect(issues[0]!.message).toBe('unknown node "ghost" (nodes: read, write)');
    expect(issues[1]!.message).toBe('read.unit is "paragraph", not an object; cannot set "x" in it');
    expect(issues[2]!.message).toContain('read.paths is a list');
    expect((s as ReturnType<typeof steps>).steps[1]!.config.path).toBe('ok.jsonl'); // the good one still applies
  });

  it('withBudget replaces the pipeline budget fields given', () => {
    expect(withBudget({ budget: { maxInFlight: 8, maxInFlightBytes: 10 }, steps: [] }, { maxInFlight: 2 })).toEqual({
      budget: { maxInFlight: 2, maxInFlightBytes: 10 },
      steps: [],
    });
    const s = { steps: [] };
    expect(withBudget(s, {})).toBe(s);
  });
});

describe('loadSpecFile', () => {
  it('loads a TypeScript spec (default export) that validates', async () => {
    const loaded = await loadSpecFile(spec('moby-small.ts'));
    const p = await validatePipeline(loaded);
    expect(p.name).toBe('moby-small');
    expect(p.order).toEqual(['read', 'normalize', 'write']);
  });

  it('loads a named export `pipeline`, a function export and JSON', async () => {
    const named = join(tmp, 'named.mjs');
    writeFileSync(named, 'export const pipeline = { name: "named", steps: [] };\n');
    const fn = join(tmp, 'fn.mjs');
    writeFileSync(fn, 'export default async () => ({ name: "from-fn", steps: [] });\n');
    const json = join(tmp, 'spec.json');
    writeFileSync(json, JSON.stringify({ name: 'json', nodes: {} }));
    expect(await loadSpecFile(named)).toEqual({ name: 'named', steps: [] });
    expect(await loadSpecFile(fn)).toEqual({ name: 'from-fn', steps: [] });
    expect(await loadSpecFile(json)).toEqual({ name: 'json', nodes: {} });
  });

  it('turns unreadable files into SpecErrors with a path', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['bad.json', '{"steps": [}', /\(file\): not valid JSON/],
      ['empty.mjs', 'export const other = 1;\n', /\(module\): exports no spec/],
      ['throws.mjs', 'throw new Error("spec blew up");\n', /\(module\): cannot load: spec blew up/],
      ['spec.yaml', 'steps: []\n', /\(file\): unsupported spec file type "\.yaml"/],
    ];
    for (const [name, text, message] of cases) {
      const file = join(tmp, name);
      writeFileSync(file, text);
      const err = await loadSpecFile(file).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(SpecError);
      expect((err as SpecError).message).toMatch(message);
    }
    await expect(loadSpecFile(join(tmp, 'missing.ts'))).rejects.toThrow(/no such spec file/);
  });
});
