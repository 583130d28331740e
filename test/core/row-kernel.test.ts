// The row kernel form (src/core/row-kernel.ts) on Moby-Dick paragraphs: rows kept or dropped with a
// reason counted, nulls dropped / kept / shown to the row function, typed columns added or replaced,
// untouched columns left in their buffers, rejects written with reason and row, credit tickets passed
// or released, errors naming batch and row, and the very same output inline and on worker threads.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Int32, Utf8, makeVector, type RecordBatch } from 'apache-arrow';
import { Subject, from, lastValueFrom, toArray, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeContext } from '../../src/core/context.ts';
import { runRows } from '../../src/core/row-kernel.ts';
import { Ledger, attach, releaseBatch, ticketsOf } from '../../src/core/tickets.ts';
import { WorkerPool } from '../../src/runtime/worker-pool.ts';
import { batchBytes, batchFromColumns, schemaOf } from '../../src/schema/index.ts';
import { docBatches, mobyParagraphs, textsOf } from '../fixtures/moby.ts';
import { rowFixture } from '../fixtures/row-kernel-ops.ts';

const texts = [...mobyParagraphs(1), ...mobyParagraphs(42)];
const input = docBatches(texts, 8);
const isShort = (t: string) => t.length < 200;
const isWhale = (t: string) => /whale/i.test(t);

type Cfg = Parameters<typeof rowFixture>[0];
const rowsOf = (bs: RecordBatch[]) => bs.flatMap((b) => b.toArray().map((r) => r.toJSON() as Record<string, unknown>));

async function inline(config: Cfg, batches: RecordBatch[] = input) {
  const ctx = makeContext('rows');
  const out = await lastValueFrom(
    from(batches).pipe(rowFixture(config, ctx) as (s: Observable<RecordBatch>) => Observable<RecordBatch>, toArray()),
  );
  return { out, stats: ctx.stats.snapshot() };
}

/** Batches with an id and a nullable text, some texts null (every fourth row). */
const withNulls = () =>
  docBatches(texts.slice(0, 16), 8).map(
    (b, k) =>
      batchFromColumns(
        schemaOf<{ id: Utf8; text: Utf8 }>({ id: { type: new Utf8() }, text: { type: new Utf8(), nullable: true } }),
        { id: [...b.getChild('id')!] as string[], text: textsOf(b).map((t, i) => ((i + k) % 4 === 0 ? null : t)) },
      ) as unknown as RecordBatch,
  );

let dir: string;
let pool: WorkerPool;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowlm-row-kernel-'));
  pool = new WorkerPool({ size: 2 });
});
afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('row kernel', () => {
  it('keeps the rows its function keeps and counts every drop by reason', async () => {
    const { out, stats } = await inline({ minChars: 200, whale: true, columns: false });
    const want = texts.filter((t) => !isShort(t) && !isWhale(t));
    expect(out.flatMap(textsOf)).toEqual(want);
    const short = texts.filter(isShort).length,
      whale = texts.filter((t) => !isShort(t) && isWhale(t)).length;
    expect(short).toBeGreaterThan(3);
    expect(whale).toBeGreaterThan(3);
    expect(stats.dropReasons).toEqual({ short, whale });
    expect(stats.dropped).toBe(short + whale);
    expect(stats.counters).toEqual({ words: want.join(' ').split(/\s+/).filter(Boolean).length });
    // the kept rows' other columns: the same ids, urls and sources as in the input
    const kept = rowsOf(input).filter((r) => !isShort(r.text as string) && !isWhale(r.text as string));
    expect(rowsOf(out)).toEqual(kept);
  });

  it('adds typed columns for the kept rows, replaces a column in place, and leaves untouched columns in their buffers', async () => {
    const { out } = await inline({ upper: true });
    expect(out[0]!.schema.fields.map((f) => `${f.name}: ${f.type}${f.nullable ? '?' : ''}`)).toEqual([
      'id: Utf8',
      'text: Utf8',
      'url: Utf8?',
      'source: Dictionary<Int32, Utf8>',
      'words: Int32',
      'ratio: Float32',
      'first: Dictionary<Int32, Utf8>',
      'even_words: Int64?',
      'long: Bool',
    ]);
    const rows = rowsOf(out);
    expect(rows.map((r) => r.text)).toEqual(texts.map((t) => t.toUpperCase()));
    rows.forEach((r, i) => {
      const words = texts[i]!.split(/\s+/).filter(Boolean);
      expect(r.words).toBe(words.length);
      expect(r.ratio).toBeCloseTo(words.length / texts[i]!.length, 6);
      expect(r.first).toBe(words[0]);
      expect(r.even_words).toBe(words.length % 2 === 0 ? BigInt(words.length) : null);
      expect(r.long).toBe(texts[i]!.length > 500);
    });
    // nothing dropped: id, url and source are the input's own buffers
    out.forEach((b, k) => {
      for (const c of ['id', 'url', 'source'] as const)
        expect(b.getChild(c)!.data[0]).toBe(input[k]!.getChild(c)!.data[0]);
    });
    // text already upper-case: the replacement equals it, so the input's column stays
    const shouting = docBatches(
      texts.map((t) => t.toUpperCase()),
      8,
    );
    const same = await inline({ upper: true, columns: false }, shouting);
    same.out.forEach((b, k) => expect(b.getChild('text')!.data[0]).toBe(shouting[k]!.getChild('text')!.data[0]));
  });

  it('drops a null with its reason, keeps it unseen, or shows it to the row function, as configured', async () => {
    const batches = withNulls();
    const nulls = batches.reduce((n, b) => n + b.getChild('text')!.nullCount, 0);
    expect(nulls).toBe(4);
    const dropped = await inline({ nulls: 'drop' }, batches);
    expect(dropped.stats.dropReasons).toEqual({ 'test.null': nulls });
    expect(dropped.out.flatMap(textsOf)).not.toContain(null);
    const kept = await inline({ nulls: 'keep' }, batches);
    expect(kept.stats.counters?.nulls_seen).toBeUndefined();
    const keptRows = rowsOf(kept.out).filter((r) => r.text === null);
    expect(keptRows.map((r) => [r.words, r.first, r.long])).toEqual(Array(nulls).fill([null, null, null]));
    const shown = await inline({ nulls: 'row' }, batches);
    expect(shown.stats.counters?.nulls_seen).toBe(nulls);
    expect(
      rowsOf(shown.out)
        .filter((r) => r.text === null)
        .map((r) => [r.words, r.first]),
    ).toEqual(Array(nulls).fill([0, null]));
    expect(shown.out[0]!.schema.fields.find((f) => f.name === 'long')!.nullable).toBe(true);
  });

  it('writes each dropped row to the rejects file with its reason, batch, row, id and text', async () => {
    const path = join(dir, 'inline', 'rejects.jsonl');
    const batches = withNulls();
    const { stats } = await inline({ minChars: 200, whale: true, rejects: path }, batches);
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const want = batches.flatMap((b, k) =>
      textsOf(b).flatMap((t, row) => {
        const id = b.getChild('id')!.get(row) as string;
        if (t === null) return [{ reason: 'test.null', batch: k, row, id }];
        const reason = isShort(t) ? 'short' : isWhale(t) ? 'whale' : undefined;
        return reason ? [{ reason, batch: k, row, id, record: t }] : [];
      }),
    );
    expect(lines).toEqual(want);
    expect(lines.length).toBe(stats.dropped);
    expect(new Set(lines.map((l) => l.reason))).toEqual(new Set(['test.null', 'short', 'whale']));
    expect(readdirSync(join(dir, 'inline'))).toEqual(['rejects.jsonl']); // no temporary file left
  });

  it("passes a partly kept batch's credit on and returns an emptied batch's at once", () => {
    const ledger = new Ledger('src', { maxInFlight: 100, maxInFlightBytes: 1e12 });
    const src = new Subject<RecordBatch>();
    const got: RecordBatch[] = [];
    src
      .pipe(rowFixture({ minChars: 200, columns: false }) as (s: Observable<RecordBatch>) => Observable<RecordBatch>)
      .subscribe((b) => got.push(b));
    const send = (b: RecordBatch) => {
      attach(b, [ledger.issue(batchBytes(b))]);
      src.next(b);
    };
    const allShort = batchFromColumns(schemaOf<{ text: Utf8 }>({ text: { type: new Utf8() } }), {
      text: texts.filter(isShort).slice(0, 4),
    }) as unknown as RecordBatch;
    send(allShort);
    expect(got).toHaveLength(0);
    expect(ledger.inFlight).toBe(0); // every row dropped: the credit is back
    const mixed = input[0]!;
    expect(textsOf(mixed).some((t) => isShort(t!))).toBe(true);
    send(mixed);
    expect(got).toHaveLength(1);
    expect(got[0]!.numRows).toBeLessThan(mixed.numRows);
    expect(ticketsOf(got[0]!)).toEqual(ticketsOf(mixed));
    expect(ledger.inFlight).toBe(1);
    releaseBatch(got[0]!);
    expect(ledger.inFlight).toBe(0);
  });

  it('fails with the node, batch and row where the row function threw', async () => {
    // a phrase from the third paragraph of batch 1, found nowhere before it
    const phrase = textsOf(input[1]!)[2]!.slice(0, 40);
    expect(texts.findIndex((t) => t.includes(phrase))).toBe(8 + 2);
    const message = `[rows] at batch 1, row 2: found "${phrase}"`;
    await expect(inline({ failOn: phrase })).rejects.toThrow(message);
    const ctx = makeContext('rows');
    const threaded = lastValueFrom(from(input).pipe(pool.map(rowFixture, { failOn: phrase }, { ctx }), toArray()));
    await expect(threaded).rejects.toThrow(message);
  });

  it('gives the same batches, stats and rejects on worker threads as inline', async () => {
    const batches = [...input, ...withNulls()];
    const config = (where: string): Cfg => ({
      minChars: 200,
      whale: true,
      upper: true,
      nulls: 'row',
      rejects: join(dir, where, 'rejects.jsonl'),
    });
    const here = await inline(config('inline-2'), batches);
    const ctx = makeContext('rows');
    const there = await lastValueFrom(from(batches).pipe(pool.map(rowFixture, config('workers'), { ctx }), toArray()));
    expect(pool.threads).toBe(2);
    expect(there.map((b) => b.schema.fields.map(String))).toEqual(here.out.map((b) => b.schema.fields.map(String)));
    expect(rowsOf(there)).toEqual(rowsOf(here.out));
    expect(ctx.stats.snapshot().dropReasons).toEqual(here.stats.dropReasons);
    expect(ctx.stats.snapshot().counters).toEqual(here.stats.counters);
    const rejects = (where: string) => readFileSync(join(dir, where, 'rejects.jsonl'), 'utf8');
    expect(rejects('workers')).toBe(rejects('inline-2'));
    expect(rejects('workers').split('\n').length).toBeGreaterThan(10);
  });

  it('batch-level fast path: finish() gives whole columns; without a row function only nulls to drop are visited', () => {
    const b = withNulls()[0]!;
    const seen: number[] = [];
    const out = runRows(
      {
        nulls: { drop: 'gone' },
        columns: { n: new Int32() },
        batch: () => ({
          finish: (kept) => {
            seen.push(kept);
            return { n: makeVector(Int32Array.from({ length: kept }, (_, i) => i)) };
          },
        }),
      },
      b,
    );
    const nulls = b.getChild('text')!.nullCount;
    expect(seen).toEqual([b.numRows - nulls]);
    expect([...out.getChild('n')!]).toEqual([...Array(b.numRows - nulls).keys()]);
    expect(textsOf(out)).toEqual(textsOf(b).filter((t) => t !== null));
    expect(() => runRows({ nulls: 'keep', columns: { n: new Int32() }, batch: () => ({}) }, b)).toThrow(
      /column "n" is declared, but neither the rows nor finish\(\) gave its values/,
    );
  });

  it('names the column it needs when a batch lacks it', () => {
    const noText = batchFromColumns(schemaOf<{ id: Utf8 }>({ id: { type: new Utf8() } }), {
      id: ['a'],
    }) as unknown as RecordBatch;
    expect(() => runRows({ nulls: 'keep', missing: 'put a reader upstream', batch: () => () => true }, noText)).toThrow(
      'column "text" missing (batch has id); put a reader upstream',
    );
  });
});
