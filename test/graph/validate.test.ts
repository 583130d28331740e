// Spec validation reports every problem at once, each with its path, and resolves operator ids
// through the registry (operators/<id>.ts) so JSON specs need no code.
import { describe, expect, it } from 'vitest';
import { SpecError, type SpecIssue } from '../../src/core/errors.ts';
import { Registry } from '../../src/graph/registry.ts';
import { pipeline } from '../../src/graph/spec.ts';
import { validatePipeline } from '../../src/graph/validate.ts';
import { normalize } from '../../operators/clean/normalize.ts';
import { readText } from '../../operators/ingest/read-text.ts';
import { writeJsonl } from '../../operators/io/write-jsonl.ts';
import { collect, countWords, failOnWord, lexicalVariety, pacedSource, tokenSink } from '../fixtures/ops/graph-ops.ts';
import { mobyChapterFile } from '../fixtures/moby.ts';

const registry = () => new Registry().register(pacedSource, lexicalVariety, countWords, failOnWord, collect, tokenSink);

async function issuesOf(spec: unknown, reg = registry()): Promise<SpecIssue[]> {
  const err = await validatePipeline(spec, reg).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SpecError);
  return (err as SpecError).issues;
}
const at = (issues: SpecIssue[], path: string) => issues.filter((i) => i.path === path).map((i) => i.message);

describe('an invalid spec', () => {
  it('reports every problem at once, each with its path', async () => {
    const spec = {
      name: 'broken',
      nodes: {
        read: { op: 'test/paced-source', config: { chapters: [1, 2] } },
        ghost: { op: 'clean/no-such-thing' },
        dedup: { op: 'test/lexical-variety', config: { threshold: 1.5 } },
        tokens: { op: 'test/token-sink' },
        a: { op: 'clean/normalize' },
        b: { op: 'clean/normalize', config: { form: 'NFC' } },
        orphan: { op: 'test/collect', config: { name: 'x' } },
      },
      edges: [
        ['read', 'ghost'],
        ['read', 'dedup'],
        ['read', 'tokens'],
        ['a', 'b'],
        ['b', 'a'],
      ],
    };
    const issues = await issuesOf(spec);
    expect(at(issues, 'nodes.ghost.op')[0]).toMatch(
      /unknown operator "clean\/no-such-thing" \(known: .*clean\/normalize/,
    );
    expect(at(issues, 'nodes.dedup.config.threshold')[0]).toMatch(/<=\s*1/);
    const mismatch = at(issues, 'edges[2]')[0]!;
    expect(mismatch).toContain('read -> tokens');
    expect(mismatch).toContain('column "tokens" (List<Int32>) is missing');
    expect(mismatch).toContain('upstream provides: { id: Utf8, text: Utf8, url: Utf8?, source: Dictionary<Utf8> }');
    expect(mismatch).toContain('downstream needs:');
    expect(at(issues, 'edges')[0]).toMatch(/^cycle: (a -> b -> a|b -> a -> b)$/);
    expect(at(issues, 'nodes.orphan')[0]).toMatch(/dangling node: sink test\/collect has no input/);
    expect(issues).toHaveLength(5);
    // the error's message lists them all, one per line
    const err = (await validatePipeline(spec, registry()).then(
      () => undefined,
      (e: unknown) => e,
    )) as SpecError;
    expect(err.message).toMatch(/^invalid pipeline: 5 problems\n/);
    for (const i of issues) expect(err.message).toContain(`  - ${i.path}: `);
  });

  it('does not stumble over edges from nodes that failed to resolve, nor blame what is downstream of them', async () => {
    const issues = await issuesOf({
      nodes: {
        read: { op: 'ingest/read-text', config: { paths: [] } },
        clean: { op: 'clean/normalize' },
        count: { op: 'test/count-words' },
        out: { op: 'test/token-sink' },
      },
      edges: [
        ['read', 'clean'],
        ['clean', 'count'],
        ['count', 'out'],
      ],
    });
    expect(issues.map((i) => i.path)).toEqual(['nodes.read.config.paths']);
  });

  it('checks edge schemas through passthrough and non-passthrough operators', async () => {
    const issues = await issuesOf({
      nodes: {
        read: { op: 'test/paced-source', config: { chapters: [1] } },
        words: { op: 'test/count-words' },
        clean: { op: 'clean/normalize' }, // needs text, which count-words does not pass on
        out: { op: 'test/collect', config: { name: 'y' } },
      },
      edges: [
        ['read', 'words'],
        ['words', 'clean'],
        ['clean', 'out'],
      ],
    });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('edges[1]');
    expect(issues[0]!.message).toContain('column "text" (Utf8) is missing');
    expect(issues[0]!.message).toContain('upstream provides: { id: Utf8, words: Int32 }');
  });

  it('reports shape errors from zod with their paths before anything else', async () => {
    const issues = await issuesOf({ nodes: { '9lives': { op: 'clean/normalize' }, ok: { op: 42 } }, edges: [['ok']] });
    const paths = issues.map((i) => i.path);
    expect(paths).toContain('nodes.9lives');
    expect(paths).toContain('nodes.ok.op');
    expect(paths.some((p) => p.startsWith('edges.0'))).toBe(true);
    expect((await issuesOf({ name: 'empty' }))[0]!.message).toMatch(/needs "nodes".*or "steps"/);
  });

  it('reports edges to unknown nodes, duplicate edges, sources with inputs and sinks with outputs', async () => {
    const issues = await issuesOf({
      nodes: {
        read: { op: 'test/paced-source', config: { chapters: [1] } },
        out: { op: 'test/collect', config: { name: 'z' } },
        more: { op: 'test/collect', config: { name: 'w' } },
        read2: { op: 'test/paced-source', config: { chapters: [2] } },
      },
      edges: [
        ['read', 'out'],
        ['read', 'out'],
        ['read', 'nowhere'],
        ['out', 'more'],
        ['read', 'read2'],
      ],
    });
    expect(at(issues, 'edges[1]')[0]).toMatch(/duplicate edge read -> out/);
    expect(at(issues, 'edges[2]')[0]).toMatch(/unknown node "nowhere"/);
    expect(at(issues, 'nodes.out')[0]).toMatch(/sink test\/collect has no output to connect/);
    expect(at(issues, 'nodes.read2')[0]).toMatch(/source test\/paced-source cannot have inputs/);
  });

  it('refuses workers on an operator without a kernel', async () => {
    const issues = await issuesOf({
      steps: [
        { id: 'read', op: 'test/paced-source', config: { chapters: [1] }, workers: 2 },
        { id: 'filter', op: 'test/lexical-variety', workers: 2 },
        { id: 'out', op: 'test/collect', config: { name: 'v' } },
      ],
    });
    expect(at(issues, 'steps[0].workers')[0]).toMatch(/is a source; only transforms run on workers/);
    expect(at(issues, 'steps[1].workers')[0]).toMatch(/not parallel/);
  });
});

describe('the steps shorthand', () => {
  it('becomes a chain in order, with schemas flowing through it', async () => {
    const p = await validatePipeline(
      pipeline({
        name: 'chain',
        steps: [
          { id: 'read', op: readText, config: { paths: [mobyChapterFile(1)], unit: 'paragraph' } },
          { id: 'clean', op: normalize, workers: 2 },
          { id: 'variety', op: lexicalVariety, config: { threshold: 0.6 } },
          { id: 'out', op: writeJsonl, config: { path: '/tmp/never-written.jsonl' } },
        ],
      }),
    );
    expect(p.name).toBe('chain');
    expect(p.order).toEqual(['read', 'clean', 'variety', 'out']);
    expect(p.nodes.get('clean')!.inputs).toEqual(['read']);
    expect(p.nodes.get('clean')!.outputs).toEqual(['variety']);
    expect(p.nodes.get('clean')!.workers).toBe(2);
    expect(p.nodes.get('variety')!.schema!.names).toEqual(['id', 'text', 'url', 'source']);
    expect(p.nodes.get('variety')!.config).toEqual({ threshold: 0.6 });
    expect(p.nodes.get('clean')!.config).toMatchObject({ form: 'NFC', whitespace: true, controls: true }); // zod defaults applied
    expect(p.nodes.get('out')!.schema).toBeUndefined();
  });

  it('paths of problems point into steps[i]', async () => {
    const issues = await issuesOf({
      steps: [
        { id: 'read', op: 'test/paced-source', config: { chapters: [1] } },
        { id: 'clean', op: 'clean/normalize', config: { form: 'NFX' } },
        { id: 'variety', op: 'test/lexical-variety', config: { threshold: -1 } },
        { id: 'out', op: 'test/collect', config: { name: 'u' } },
      ],
    });
    expect(at(issues, 'steps[1].config.form')).toHaveLength(1);
    expect(at(issues, 'steps[2].config.threshold')).toHaveLength(1);
    expect(issues).toHaveLength(2);
    const dup = await issuesOf({
      steps: [
        { id: 'read', op: 'test/paced-source', config: { chapters: [1] } },
        { id: 'read', op: 'test/collect', config: { name: 't' } },
      ],
    });
    expect(at(dup, 'steps[1].id')[0]).toMatch(/duplicate step id "read"/);
  });

  it('a schema mismatch in steps names the step', async () => {
    const issues = await issuesOf({
      steps: [
        { id: 'read', op: 'test/paced-source', config: { chapters: [1] } },
        { id: 'tok', op: 'test/token-sink' },
      ],
    });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('steps[1]');
    expect(issues[0]!.message).toContain('column "tokens" (List<Int32>) is missing');
  });
});

describe('a JSON spec', () => {
  it('resolves operator ids through the registry from operators/', async () => {
    const json = JSON.parse(
      JSON.stringify({
        name: 'from-json',
        budget: { maxInFlight: 4, maxInFlightBytes: 1 << 20 },
        nodes: {
          read: {
            op: 'ingest/read-text',
            config: { paths: [mobyChapterFile(2)], unit: 'paragraph' },
            budget: { maxInFlight: 2 },
          },
          norm: { op: 'clean/normalize', config: { form: 'NFKC' } },
          out: { op: 'io/write-jsonl', config: { path: 'out/x.jsonl' } },
        },
        edges: [{ from: 'read', to: 'norm' }, ['norm', 'out']],
      }),
    ) as unknown;
    const p = await validatePipeline(json, new Registry());
    expect(p.nodes.get('read')!.factory).toBe(readText);
    expect(p.nodes.get('norm')!.factory).toBe(normalize);
    expect(p.nodes.get('out')!.factory).toBe(writeJsonl);
    expect(p.nodes.get('norm')!.def.kind).toBe('transform');
    expect(p.order).toEqual(['read', 'norm', 'out']);
    // a node's budget overrides only what it gives
    expect(p.nodes.get('read')!.budget).toEqual({ maxInFlight: 2, maxInFlightBytes: 1 << 20 });
    expect(p.nodes.get('norm')!.budget).toEqual({ maxInFlight: 4, maxInFlightBytes: 1 << 20 });
  });

  it('an id that is not a file under operators/ is unknown, and the message lists the known ids', async () => {
    const reg = new Registry();
    const issues = await issuesOf({ steps: [{ id: 'read', op: 'ingest/read-txt', config: { paths: ['x'] } }] }, reg);
    expect(issues[0]!.path).toBe('steps[0].op');
    for (const id of ['ingest/read-text', 'clean/normalize', 'io/write-jsonl'])
      expect(issues[0]!.message).toContain(id);
    expect(await reg.get('../src/index')).toBeUndefined(); // ids are paths below operators/ only
  });
});
