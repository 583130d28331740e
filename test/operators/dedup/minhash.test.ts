// The MinHash-LSH filter: near-duplicates the exact hash misses, signatures from an upstream node,
// marking, save/restore, replays and the memory bound.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Utf8 } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { minhashDedup } from '../../../operators/dedup/minhash/filter.ts';
import { minhashSignatures } from '../../../operators/dedup/minhash/signature.ts';
import { exactDedup } from '../../../operators/dedup/exact.ts';
import { OperatorStats } from '../../../src/core/stats.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { pipeline } from '../../../src/graph/spec.ts';
import { batchFromColumns, schemaOf } from '../../../src/schema/index.ts';
import { columnValues, docBatches, idsOf, mobyBookChapters, mobyChapters, runOp, sotu } from './corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'flowlm-minhash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = { log: () => undefined };
const chapters = mobyChapters();
const book = mobyBookChapters();
const docs = [...chapters, ...book];

describe('dedup/minhash/filter', () => {
  it('drops every book chapter as a near-duplicate of its chapter file, including the 4 the exact hash misses', async () => {
    const stats = new OperatorStats('minhash');
    const kept = idsOf(await runOp(docBatches(docs, 40), minhashDedup({}, { ...quiet, stats })));
    expect(kept).toEqual(chapters.map((c) => c.id));
    expect(stats.dropReasons.get('near_duplicate')).toBe(book.length);
    const exactKept = idsOf(await runOp(docBatches(docs, 40), exactDedup({ punctuation: true }, quiet)));
    expect(exactKept.length - kept.length).toBeGreaterThanOrEqual(4);
  });

  it('keeps distinct documents: State of the Union addresses are not near-duplicates of each other', async () => {
    const addresses = sotu().filter((_, i) => i % 3 === 0);
    const kept = idsOf(await runOp(docBatches(addresses, 20), minhashDedup({}, quiet)));
    expect(kept).toEqual(addresses.map((a) => a.id));
  });

  it('uses signatures from an upstream signature node, and refuses ones made with other settings', async () => {
    const inline = await runOp(docBatches(docs, 40), minhashDedup({ cluster: true }, quiet));
    const split = await runOp(docBatches(docs, 40), (s) =>
      s.pipe(minhashSignatures({}), minhashDedup({ cluster: true }, quiet)),
    );
    expect(idsOf(split)).toEqual(idsOf(inline));
    expect(columnValues(split, 'minhash_cluster')).toEqual(columnValues(inline, 'minhash_cluster'));
    // the signature column passes on unless keepSignature is false (prep drops it before its shards)
    expect(split[0]!.schema.names).toContain('minhash');
    const dropped = await runOp(docBatches(docs, 40), (s) =>
      s.pipe(minhashSignatures({}), minhashDedup({ keepSignature: false }, quiet)),
    );
    expect(idsOf(dropped)).toEqual(idsOf(inline));
    expect(dropped.every((b) => !b.schema.names.includes('minhash'))).toBe(true);
    const err = await runOp(docBatches(docs, 40), (s) =>
      s.pipe(minhashSignatures({ shingleSize: 3 }), minhashDedup({}, quiet)),
    ).catch((e: unknown) => e);
    expect(String(err)).toMatch(
      /\[dedup\/minhash\/filter\] at batch 0, field minhash: the minhash column was computed with .*"shingleSize":3.*give dedup\/minhash\/signature and this node the same/,
    );
  });

  it("mode 'mark' keeps every row and names each row's cluster by its first document", async () => {
    const out = await runOp(docBatches(docs, 40), minhashDedup({ mode: 'mark' }, quiet));
    const ids = idsOf(out);
    expect(ids).toEqual(docs.map((d) => d.id));
    const cluster = columnValues(out, 'minhash_cluster');
    const dup = columnValues(out, 'minhash_duplicate');
    for (let i = 0; i < chapters.length; i++) {
      expect(cluster[i]).toBe(i);
      expect(dup[i]).toBe(false);
    }
    for (let i = 0; i < book.length; i++) {
      expect(cluster[chapters.length + i]).toBe(i);
      expect(dup[chapters.length + i]).toBe(true);
    }
  });

  it('saves and restores its index: two halves with a restart give the output of one run', async () => {
    const batches = docBatches([...book.slice(0, 70), ...chapters, ...book.slice(70)], 25);
    const one = await runOp(batches, minhashDedup({ cluster: true }, quiet));
    const statePath = join(dir, 'halves.lsh');
    const half = Math.floor(batches.length / 2);
    const a = await runOp(batches.slice(0, half), minhashDedup({ cluster: true, statePath }, quiet));
    const logs: string[] = [];
    const b = await runOp(
      batches.slice(half),
      minhashDedup({ cluster: true, statePath }, { log: (m) => logs.push(m) }),
    );
    expect(idsOf([...a, ...b])).toEqual(idsOf(one));
    const clusters = (bs: typeof one) => columnValues(bs, 'minhash_cluster');
    expect(clusters([...a, ...b])).toEqual(clusters(one));
    expect(logs.join('\n')).toMatch(/restored dedup index from .*halves\.lsh: \d+ documents held/);
    // replay: restored, then fed everything again from the start, it gives the one-run output again
    const again = await runOp(batches, minhashDedup({ cluster: true, statePath }, quiet));
    expect(idsOf(again)).toEqual(idsOf(one));
    expect(clusters(again)).toEqual(clusters(one));
  });

  it('without an id column there are no replays: a restored index drops every near-repeat', async () => {
    const schema = schemaOf<{ text: Utf8 }>({ text: { type: new Utf8() } });
    const statePath = join(dir, 'no-id.lsh');
    const first = await runOp(
      [batchFromColumns(schema, { text: chapters.slice(0, 20).map((c) => c.text) })],
      minhashDedup({ statePath }, quiet),
    );
    expect(first[0]!.numRows).toBe(20);
    const again = batchFromColumns(schema, { text: book.slice(0, 20).map((c) => c.text) });
    expect(await runOp([again], minhashDedup({ statePath }, quiet))).toEqual([]);
  });

  it('enforces its memory bound: fails clearly, or evicts the oldest half', async () => {
    const err = await runOp(docBatches(chapters, 20), minhashDedup({ maxDocs: 30 }, quiet)).catch((e: unknown) => e);
    expect(String(err)).toMatch(
      /\[dedup\/minhash\/filter\] at batch 1, row 10: MinHash index is full: maxDocs 30 .*onFull: 'evict'/,
    );
    // evict: book chapters 1-5 come after 130 others and are no longer remembered; 131-135 still are
    const late = [...chapters, ...book.slice(0, 5), ...book.slice(-5)];
    const kept = idsOf(await runOp(docBatches(late, 20), minhashDedup({ maxDocs: 30, onFull: 'evict' }, quiet)));
    expect(kept).toEqual([...chapters.map((c) => c.id), ...book.slice(0, 5).map((b) => b.id)]);
  });

  it('runs as data: signature node on the worker pool, filter on the main thread', async () => {
    const texts = join(dir, 'texts');
    mkdirSync(texts, { recursive: true });
    docs.forEach((d, i) => writeFileSync(join(texts, `${String(i).padStart(3, '0')}.txt`), d.text));
    const out = join(dir, 'kept.jsonl');
    const spec = pipeline({
      name: 'near-dedup',
      steps: [
        { id: 'read', op: 'ingest/read-text', config: { paths: [join(texts, '*.txt')], batchRows: 16 } },
        { id: 'sig', op: 'dedup/minhash/signature', workers: 2, config: {} },
        { id: 'near', op: 'dedup/minhash/filter', config: { statePath: join(dir, 'run.lsh') } },
        { id: 'write', op: 'io/write-jsonl', config: { path: out, columns: ['id'] } },
      ],
    });
    const r = await runPipeline(spec);
    expect(r.error).toBeUndefined();
    expect(r.nodes.near!.rowsOut).toBe(chapters.length);
    expect(r.nodes.near!.dropReasons).toEqual({ near_duplicate: book.length });
  });
});
