// Compiled graphs run end to end: fan-out gives every consumer every row, fan-in merges sources,
// and a failure anywhere stops the run with a FlowError naming the operator and the input location
// while every sink aborts (no temporary file is left, no half file appears).
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from '../../src/graph/registry.ts';
import { pipeline } from '../../src/graph/spec.ts';
import { runPipeline } from '../../src/runtime/run.ts';
import { normalize } from '../../operators/clean/normalize.ts';
import { readText } from '../../operators/ingest/read-text.ts';
import { writeJsonl } from '../../operators/io/write-jsonl.ts';
import {
  closedSources,
  collect,
  collected,
  failOnWord,
  lexicalVariety,
  pacedSource,
  rebatchCounts,
  words,
} from '../fixtures/ops/graph-ops.ts';
import { mobyChapterFile, mobyParagraphs } from '../fixtures/moby.ts';

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'flowlm-compile-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
beforeEach(() => collected.clear());

const jsonl = async (path: string) =>
  (await readFile(path, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; text: string; source: string });
const chapters = [1, 2, 3, 4];
const allParas = chapters.flatMap((c) => mobyParagraphs(c));

describe('fan-out', () => {
  it('one source into two sinks: both get every row, and every credit comes back', async () => {
    const dir = await tmp();
    const r = await runPipeline(
      pipeline({
        budget: { maxInFlight: 3 },
        nodes: {
          read: { op: pacedSource, config: { chapters, rows: 5 } },
          clean: { op: normalize },
          a: { op: writeJsonl, config: { path: join(dir, 'a.jsonl') } },
          b: { op: writeJsonl, config: { path: join(dir, 'b.jsonl') } },
        },
        edges: [
          ['read', 'clean'],
          ['clean', 'a'],
          ['clean', 'b'],
        ],
      }),
    );
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    const a = await jsonl(join(dir, 'a.jsonl'));
    const b = await jsonl(join(dir, 'b.jsonl'));
    expect(a.map((x) => x.text)).toEqual(allParas);
    expect(b).toEqual(a);
    expect(r.sinks.map((s) => [s.node, s.rows]).sort()).toEqual([
      ['a', allParas.length],
      ['b', allParas.length],
    ]);
    expect(r.sources.read!.inFlight).toBe(0);
    expect(r.sources.read!.peakInFlight).toBeLessThanOrEqual(3);
    expect((await readdir(dir)).sort()).toEqual(['a.jsonl', 'b.jsonl']);
  });

  it('fan-out to branches that filter differently', async () => {
    const r = await runPipeline(
      pipeline({
        nodes: {
          read: { op: pacedSource, config: { chapters, rows: 7 } },
          varied: { op: lexicalVariety, config: { threshold: 0.75 } },
          all: { op: collect, config: { name: 'all' } },
          some: { op: collect, config: { name: 'some' } },
        },
        edges: [
          ['read', 'all'],
          ['read', 'varied'],
          ['varied', 'some'],
        ],
      }),
    );
    expect(r.ok).toBe(true);
    const all = collected.get('all')!.map((x) => x.text);
    const some = collected.get('some')!.map((x) => x.text);
    expect(all).toEqual(allParas);
    expect(some.length).toBeGreaterThan(0);
    expect(some.length + r.nodes.varied!.dropped).toBe(allParas.length);
    expect(some.every((t) => all.includes(t))).toBe(true);
    expect(r.sources.read!.inFlight).toBe(0);
  });
});

describe('fan-in', () => {
  it('two sources merged into one sink: every row of both arrives once', async () => {
    const dir = await tmp();
    const r = await runPipeline(
      pipeline({
        budget: { maxInFlight: 2 },
        nodes: {
          moby: {
            op: readText,
            config: {
              paths: [mobyChapterFile(1), mobyChapterFile(2)],
              unit: 'paragraph',
              source: 'moby',
              batchRows: 4,
            },
          },
          more: { op: pacedSource, config: { chapters: [3], rows: 6, source: 'moby-3', ms: 1 } },
          out: { op: writeJsonl, config: { path: join(dir, 'both.jsonl') } },
        },
        edges: [
          ['moby', 'out'],
          ['more', 'out'],
        ],
      }),
    );
    expect(r.ok).toBe(true);
    const rows = await jsonl(join(dir, 'both.jsonl'));
    const fromMoby = rows.filter((x) => x.source === 'moby').map((x) => x.text);
    const from3 = rows.filter((x) => x.source === 'moby-3').map((x) => x.text);
    expect(fromMoby).toEqual([...mobyParagraphs(1), ...mobyParagraphs(2)]); // order kept within a source
    expect(from3).toEqual(mobyParagraphs(3));
    expect(rows).toHaveLength(fromMoby.length + from3.length);
    expect(new Set(rows.map((x) => x.id)).size).toBe(rows.length);
    expect(r.nodes.out!.rowsIn).toBe(rows.length);
    expect(r.sources.moby!.inFlight).toBe(0);
    expect(r.sources.more!.inFlight).toBe(0);
  });
});

describe('errors', () => {
  const noTemp = async (dir: string) => (await readdir(dir)).filter((f) => f.startsWith('.flowlm-tmp'));

  it('an operator error stops the run with a FlowError naming the node and the row; the sink aborts', async () => {
    const dir = await tmp();
    const rows = 5;
    const r = await runPipeline(
      pipeline({
        steps: [
          { id: 'read', op: pacedSource, config: { chapters, rows } },
          { id: 'harpoon', op: failOnWord, config: { word: 'harpoon' } },
          { id: 'out', op: writeJsonl, config: { path: join(dir, 'out.jsonl') } },
        ],
      }),
    );
    // the batches the source makes (per chapter, `rows` paragraphs each) and the first that fails
    const batches = chapters.flatMap((c) => {
      const ps = mobyParagraphs(c);
      return Array.from({ length: Math.ceil(ps.length / rows) }, (_, i) => ps.slice(i * rows, i * rows + rows));
    });
    const batch = batches.findIndex((b) => b.some((p) => words(p).includes('harpoon')));
    const row = batches[batch]!.findIndex((p) => words(p).includes('harpoon'));
    expect(batch).toBeGreaterThan(1); // some batches were written before the failure
    expect(r.ok).toBe(false);
    expect(r.error!.operator).toBe('harpoon');
    expect(r.error!.location).toEqual({ batch, row, field: 'text' });
    expect(r.error!.message).toContain(`batch ${batch}, row ${row}, field text`);
    expect(r.error!.message).toContain('found "harpoon"');
    expect(r.nodes.out!.rowsIn).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a plain error thrown inside a foreign RxJS operator is named after its node', async () => {
    const r = await runPipeline(
      pipeline({
        steps: [
          { id: 'read', op: pacedSource, config: { chapters: [1], rows: 2 } },
          { id: 'groups', op: rebatchCounts, config: { n: 2, failAt: 1 } },
        ],
      }),
    );
    expect(r.ok).toBe(false);
    expect(r.error!.operator).toBe('groups');
    expect(r.error!.message).toContain('group 1 is cursed');
  });

  it('a source error names the source, the file and the byte offset', async () => {
    const dir = await tmp();
    const bad = join(dir, 'latin1.txt');
    const good = Buffer.from(`${mobyParagraphs(1)[1]}\n\n`);
    await writeFile(
      bad,
      Buffer.concat([good, Buffer.from([0x43, 0x61, 0x66, 0x80, 0x20]), Buffer.from('and the rest\n')]),
    );
    const out = join(dir, 'out');
    await mkdir(out);
    const r = await runPipeline(
      pipeline({
        steps: [
          { id: 'read', op: readText, config: { paths: [bad], unit: 'paragraph', onError: 'fail' } },
          { id: 'out', op: writeJsonl, config: { path: join(out, 'x.jsonl') } },
        ],
      }),
    );
    expect(r.ok).toBe(false);
    expect(r.error!.operator).toBe('read');
    expect(r.error!.message).toMatch(/UTF-8/);
    expect(r.error!.location!.file).toContain('latin1.txt');
    expect(r.error!.location!.offset).toBe(good.length + 3);
    expect(await readdir(out)).toEqual([]);
  });

  it('a failure on one branch aborts the sinks of independent branches too, before the run returns', async () => {
    const dir = await tmp();
    const r = await runPipeline(
      pipeline({
        nodes: {
          // fails at its 5th batch, about 40 ms in, while the other branch is still writing
          fast: { op: pacedSource, config: { chapters: [1, 2], rows: 4, ms: 8 } },
          boom: { op: failOnWord, config: { word: 'harpoon' } },
          sinkA: { op: writeJsonl, config: { path: join(dir, 'a.jsonl') } },
          slow: { op: pacedSource, config: { chapters: [3], rows: 2, ms: 2 } },
          sinkB: { op: writeJsonl, config: { path: join(dir, 'b.jsonl') } },
        },
        edges: [
          ['fast', 'boom'],
          ['boom', 'sinkA'],
          ['slow', 'sinkB'],
        ],
      }),
    );
    expect(r.ok).toBe(false);
    expect(r.error!.operator).toBe('boom');
    expect(r.nodes.sinkB!.rowsIn).toBeGreaterThan(0); // sinkB had started writing
    expect(await noTemp(dir)).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a failing sink aborts its sibling on a shared source; the error names the sink', async () => {
    const dir = await tmp();
    const r = await runPipeline(
      pipeline({
        nodes: {
          read: { op: pacedSource, config: { chapters, rows: 3 } },
          disk: { op: collect, config: { name: 'disk', failAt: 2 } },
          file: { op: writeJsonl, config: { path: join(dir, 'file.jsonl') } },
        },
        edges: [
          ['read', 'disk'],
          ['read', 'file'],
        ],
      }),
    );
    expect(r.ok).toBe(false);
    expect(r.error!.operator).toBe('disk');
    expect(r.error!.message).toContain('disk full');
    expect(collected.get('disk')).toEqual([]); // aborted
    expect(await readdir(dir)).toEqual([]);
  });

  it('a failed run closes its sources, even one waiting for credit that will never return', async () => {
    const r = await runPipeline(
      pipeline({
        budget: { maxInFlight: 1 },
        steps: [
          { id: 'read', op: pacedSource, config: { chapters: [3], rows: 4, source: 'stuck' } },
          { id: 'disk', op: collect, config: { name: 'disk', failAt: 0 } },
        ],
      }),
    );
    expect(r.ok).toBe(false);
    expect(r.sources.read!.inFlight).toBe(1); // the batch the sink failed on was never released
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closedSources.has('stuck')).toBe(true);
  });

  it('an invalid spec is rejected before anything runs', async () => {
    const dir = await tmp();
    await expect(
      runPipeline(
        {
          steps: [
            { id: 'read', op: 'test/paced-source', config: { chapters: [0] } },
            { id: 'out', op: 'io/write-jsonl', config: { path: join(dir, 'x.jsonl') } },
          ],
        },
        { registry: new Registry().register(pacedSource) },
      ),
    ).rejects.toThrow(/steps\[0\]\.config\.chapters\.0/);
    expect(await readdir(dir)).toEqual([]);
  });
});
