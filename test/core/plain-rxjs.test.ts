// Operators are plain RxJS: factories work in an ordinary .pipe() chain with no flowlm runtime (no
// ledger, no graph), sources can be subscribed directly and sinks finish with one SinkResult.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RecordBatch } from 'apache-arrow';
import { from, lastValueFrom, map, take, toArray } from 'rxjs';
import { FlowError } from '../../src/core/errors.ts';
import { OperatorStats } from '../../src/core/stats.ts';
import { ticketsOf } from '../../src/core/tickets.ts';
import { normalize } from '../../operators/clean/normalize.ts';
import { readText } from '../../operators/ingest/read-text.ts';
import { writeJsonl } from '../../operators/io/write-jsonl.ts';
import { failOnWord, lexicalVariety, rebatchCounts } from '../fixtures/ops/graph-ops.ts';
import { docBatches, mobyChapterFile, mobyParagraphs, textsOf } from '../fixtures/moby.ts';

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'flowlm-plain-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

// Real paragraphs roughed up the way scraped text is: CRLF line ends, runs of spaces and tabs.
const clean = mobyParagraphs(1);
const messy = clean.map((p, i) => (i % 2 === 0 ? p.replace(/ /g, '  \t') : `${p}\r\n\r\n\r\n`));

describe('an operator in an ordinary pipe()', () => {
  it('normalize, then map and toArray, with no runtime around it', async () => {
    const stats = new OperatorStats('normalize');
    const out = await lastValueFrom(
      from(docBatches(messy, 5)).pipe(
        normalize({ form: 'NFC' }, { stats }),
        map((b) => ({
          ids: [...b.getChild('id')!].map(String),
          texts: textsOf(b).map(String),
          sources: [...b.getChild('source')!],
        })),
        toArray(),
      ),
    );
    const texts = out.flatMap((o) => o.texts);
    expect(texts).toEqual(clean); // the moby paragraphs have single spaces and no line breaks
    expect(out.flatMap((o) => o.ids)).toEqual(docBatches(messy, 5).flatMap((b) => [...b.getChild('id')!]));
    expect(out.every((o) => o.sources.every((s) => s === 'moby'))).toBe(true); // passthrough column kept
    expect(stats.rowsIn).toBe(clean.length);
    expect(stats.rowsOut).toBe(clean.length);
    expect(stats.batchesIn).toBe(Math.ceil(clean.length / 5));
  });

  it('batches carry no tickets outside a run, and a filter counts its drops', async () => {
    const stats = new OperatorStats('variety');
    const out = await lastValueFrom(
      from(docBatches(clean, 4)).pipe(lexicalVariety({ threshold: 0.7 }, { stats }), toArray()),
    );
    const kept = out.flatMap((b) => textsOf(b));
    expect(out.every((b) => ticketsOf(b).length === 0)).toBe(true);
    expect(kept.length + stats.dropped).toBe(clean.length);
    expect(stats.dropReasons.get('repetitive') ?? 0).toBe(stats.dropped);
    expect(kept.length).toBeGreaterThan(0);
  });

  it('an operator error reaches a plain subscriber as a FlowError with the operator and location', async () => {
    const batches = docBatches(clean, 4);
    const hit = batches.findIndex((b) => textsOf(b).some((t) => /\bwhale\b/i.test(t!)));
    expect(hit).toBeGreaterThanOrEqual(0);
    const err = await lastValueFrom(from(batches).pipe(failOnWord({ word: 'whale' }), toArray())).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FlowError);
    const fe = err as FlowError;
    expect(fe.operator).toBe('test/fail-on-word');
    expect(fe.location.batch).toBe(hit);
    expect(fe.location.row).toBe(textsOf(batches[hit]!).findIndex((t) => /\bwhale\b/i.test(t!)));
    expect(fe.message).toContain(`batch ${hit}`);
  });

  it('a plain error thrown inside a wrapped foreign operator is named after the operator; upstream errors are not', async () => {
    const err = await lastValueFrom(
      from(docBatches(clean, 2)).pipe(rebatchCounts({ n: 2, failAt: 1 }, { nodeId: 'counts' }), toArray()),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowError);
    expect((err as FlowError).operator).toBe('counts');
    expect((err as FlowError).message).toContain('group 1 is cursed');
    const upstream = new Error('upstream broke');
    const passed = await lastValueFrom(
      from(docBatches(clean, 2)).pipe(
        map((b, i) => {
          if (i === 1) throw upstream;
          return b;
        }),
        rebatchCounts({ n: 2 }),
        toArray(),
      ),
    ).catch((e: unknown) => e);
    expect(passed).toBe(upstream);
  });
});

describe('a source factory subscribed directly', () => {
  it('reads a real chapter paragraph by paragraph, lazily, without a ledger', async () => {
    const src = readText({ paths: [mobyChapterFile(4)], unit: 'paragraph', batchRows: 3, source: 'moby-4' });
    const batches = await lastValueFrom(src.pipe(toArray()));
    expect(batches.flatMap((b) => textsOf(b))).toEqual(mobyParagraphs(4));
    expect(batches.every((b) => b.numRows <= 3)).toBe(true);
    expect(new Set(batches.flatMap((b) => [...b.getChild('source')!]))).toEqual(new Set(['moby-4']));
    expect(batches.every((b) => ticketsOf(b).length === 0)).toBe(true);
  });

  it('can be cut short with take: it stops reading', async () => {
    const stats = new OperatorStats('read');
    const first = await lastValueFrom(
      readText({ paths: [mobyChapterFile(3)], unit: 'paragraph', batchRows: 2 }, { stats }).pipe(take(2), toArray()),
    );
    expect(first.flatMap((b) => textsOf(b))).toEqual(mobyParagraphs(3).slice(0, 4));
    await new Promise((r) => setTimeout(r, 20));
    expect(stats.batchesOut).toBeLessThan(mobyParagraphs(3).length / 2 - 1);
  });
});

describe('a sink factory with lastValueFrom', () => {
  it('writes every row and resolves to a SinkResult naming the completed file', async () => {
    const dir = await tmp();
    const path = join(dir, 'moby.jsonl');
    const batches = docBatches(clean, 6);
    const result = await lastValueFrom(from(batches).pipe(writeJsonl({ path })));
    expect(result).toEqual({
      node: 'io/write-jsonl',
      rows: clean.length,
      batches: batches.length,
      files: [path],
      cancelled: false,
    });
    const lines = (await readFile(path, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string; url: string | null });
    expect(lines.map((l) => l.text)).toEqual(clean);
    expect(lines.filter((l) => l.url === null).length).toBe(
      batches.reduce((n, b) => n + b.getChild('url')!.nullCount, 0),
    );
    expect((await readdir(dir)).filter((f) => f.startsWith('.flowlm-tmp'))).toEqual([]);
  });

  it('an upstream error aborts the sink: no file, no temporary file', async () => {
    const dir = await tmp();
    const boom = new Error('reader died');
    const err = await lastValueFrom(
      from(docBatches(clean, 4)).pipe(
        map((b: RecordBatch, i) => {
          if (i === 2) throw boom;
          return b;
        }),
        writeJsonl({ path: join(dir, 'partial.jsonl') }),
      ),
    ).catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('config errors from a factory', () => {
  it('name the operator and the path of each invalid field', () => {
    const call = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as FlowError;
      }
      throw new Error('no error');
    };
    const n = call(() => normalize({ form: 'NFX' as 'NFC' }));
    expect(n).toBeInstanceOf(FlowError);
    expect(n.operator).toBe('clean/normalize');
    expect(n.message).toMatch(/config\.form: /);
    const r = call(() => readText({ paths: [], batchRows: 0 }));
    expect(r.message).toMatch(/config\.paths: /);
    expect(r.message).toMatch(/config\.batchRows: /);
    expect(call(() => writeJsonl({} as { path: string })).message).toMatch(
      /invalid config for operator io\/write-jsonl:\n\s+config\.path: /,
    );
    expect(call(() => lexicalVariety({ threshold: 1.5 }, { nodeId: 'variety' })).message).toMatch(
      /^\[variety\].*config\.threshold: .*1/s,
    );
  });
});
