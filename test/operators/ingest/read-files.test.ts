// ingest/read-files on a folder of mixed files of real text: a JSON Lines file of Moby-Dick chapters, a
// State of the Union address as plain text, three more addresses in a Parquet file (written by
// flowlm's ParquetWriter, no id column, an extra year column) and two chapters as HTML pages in a
// WARC file. Each file is read by the reader of its kind, in file order, as Doc batches; which reader a
// prep input gets follows from its name or pattern.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Int32, Utf8 } from 'apache-arrow';
import { WARCRecord, WARCSerializer } from 'warcio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFiles } from '../../../operators/ingest/read-files.ts';
import { certainKind } from '../../../operators/ingest/input-kind.ts';
import { readerSteps } from '../../../operators/ingest/reader-for.ts';
import { fileKey, stableId } from '../../../src/runtime/files.ts';
import { ParquetWriter } from '../../../src/runtime/parquet-writer.ts';
import { batchFromColumns, docSchema, schemaOf } from '../../../src/schema/index.ts';
import { cleanup, drain, mobyFiles, sotuFiles, tmp } from './helpers.ts';

const dir = tmp('read-files');
afterAll(() => cleanup(dir));

let chapters: string[] = [];
let addresses: string[] = [];
const YEARS = [1994, 1995, 1996];

beforeAll(async () => {
  const moby = await mobyFiles();
  chapters = moby.slice(0, 5).map((f) => readFileSync(f, 'utf8').trim());
  writeFileSync(
    join(dir, 'a-moby.jsonl'),
    chapters
      .slice(0, 3)
      .map((text, i) => JSON.stringify({ id: `moby-${i + 1}`, text }))
      .join('\n') + '\n',
  );
  const sotu = await sotuFiles();
  const address = (year: number) => sotu.find((f) => f.includes(`/${year}_`))!;
  copyFileSync(address(2001), join(dir, 'b-sotu-2001.txt'));
  addresses = YEARS.map((y) => readFileSync(address(y), 'utf8').trim());
  const parts: Uint8Array[] = [];
  const writer = new ParquetWriter(
    {
      write: async (d) => {
        parts.push(d.slice());
      },
    },
    { compression: 'snappy', rowGroupRows: 2 },
  );
  await writer.write(
    batchFromColumns(
      schemaOf<{ year: Int32; text: Utf8 }>({ year: { type: new Int32() }, text: { type: new Utf8() } }),
      { year: YEARS, text: addresses },
    ),
  );
  await writer.finish();
  writeFileSync(join(dir, 'c-sotu.parquet'), Buffer.concat(parts));
  const records: Uint8Array[] = [];
  for (const [i, text] of chapters.slice(3).entries()) {
    const html = `<!doctype html><html><head><title>Chapter ${i + 4}</title></head><body>${text
      .split(/\n\s*\n/)
      .map((p) => `<p>${p}</p>`)
      .join('\n')}</body></html>`;
    const url = `https://moby.example/chapter/${i + 4}`;
    records.push(
      await WARCSerializer.serialize(
        WARCRecord.create(
          {
            url,
            date: '2024-05-06T07:08:09Z',
            type: 'response',
            warcVersion: 'WARC/1.1',
            statusline: 'HTTP/1.1 200 OK',
            httpHeaders: { 'Content-Type': 'text/html; charset=utf-8' },
          },
          [Buffer.from(html)],
        ),
        { gzip: true },
      ),
    );
  }
  writeFileSync(join(dir, 'd-pages.warc.gz'), Buffer.concat(records));
});

const words = (s: string) => s.split(/\s+/).filter(Boolean);

describe('ingest/read-files', () => {
  it('reads each file of a mixed folder with the reader of its kind, in file order, as Doc batches', async () => {
    const r = await drain(readFiles, { paths: [join(dir, '*')] });
    expect(r.error).toBeUndefined();
    expect(r.rows.map((d) => d.source)).toEqual([
      'jsonl',
      'jsonl',
      'jsonl',
      'text',
      'parquet',
      'parquet',
      'parquet',
      'warc',
      'warc',
    ]);
    expect(Object.fromEntries(r.ctx.stats.counters)).toEqual({
      'documents.jsonl': 3,
      'documents.text': 1,
      'documents.parquet': 3,
      'documents.warc': 2,
    });
    for (const b of r.batches) expect(b.schema.fields.map(String)).toEqual(docSchema().fields.map(String));
    // JSON Lines: one document per line, with its id
    expect(r.rows.slice(0, 3).map((d) => [d.id, d.text])).toEqual(
      chapters.slice(0, 3).map((t, i) => [`moby-${i + 1}`, t]),
    );
    // plain text: the whole address, one document
    expect(String(r.rows[3]!.text).trim()).toBe(readFileSync(join(dir, 'b-sotu-2001.txt'), 'utf8').trim());
    // Parquet: one document per row, ids from the file and row, the year column left out
    const pq = join(dir, 'c-sotu.parquet');
    expect(r.rows.slice(4, 7).map((d) => [d.id, d.text, d.url])).toEqual(
      addresses.map((t, i) => [stableId(`${fileKey(pq)}:${i}`), t, null]),
    );
    // WARC: the pages' main text (every word of the chapter, no markup) and their urls
    for (const [i, d] of r.rows.slice(7).entries()) {
      expect(d.url).toBe(`https://moby.example/chapter/${i + 4}`);
      expect(words(String(d.text))).toEqual(words(chapters[i + 3]!));
    }
  });

  it('reads the same documents in the same order every time', async () => {
    const a = await drain(readFiles, { paths: [join(dir, '*')] });
    const b = await drain(readFiles, { paths: [join(dir, '*')] });
    expect(b.rows).toEqual(a.rows);
    expect(b.batches.map((x) => x.numRows)).toEqual(a.batches.map((x) => x.numRows));
  });

  it('names the file when a table has no text column', async () => {
    const parts: Uint8Array[] = [];
    const writer = new ParquetWriter(
      {
        write: async (d) => {
          parts.push(d.slice());
        },
      },
      { compression: 'none', rowGroupRows: 10 },
    );
    await writer.write(
      batchFromColumns(schemaOf<{ body: Utf8 }>({ body: { type: new Utf8() } }), { body: ['no text column here'] }),
    );
    await writer.finish();
    const bad = join(tmp('read-files-bad'), 'body.parquet');
    writeFileSync(bad, Buffer.concat(parts));
    const r = await drain(readFiles, { paths: [join(dirname(bad), '*')] });
    expect(r.error?.message).toMatch(
      /body\.parquet.*cannot read parquet documents: it has no Utf8 "text" column \(columns: body: Utf8\)/,
    );
    cleanup(dirname(bad));
  });
});

describe('the reader a prep input gets', () => {
  it("a glob that can match several kinds gets read-files; one kind or plain paths, that kind's reader", () => {
    const kinds = [
      'd/*',
      'd/*.gz',
      'd/*.{jsonl,txt}',
      'd/**',
      'd/*l',
      'd/*.txt',
      'd/*.jsonl',
      'd/*.jsonl.gz',
      'd/*.parquet',
      'd/*.warc.gz',
      'd/{197,198}*.txt',
      'a.jsonl',
    ].map(certainKind);
    expect(kinds).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      'text',
      'jsonl',
      'jsonl',
      'parquet',
      'warc',
      'text',
      'jsonl',
    ]);
    const op = (inputs: string[]) =>
      readerSteps(inputs, 1 << 20).map((s) => (typeof s.op === 'string' ? s.op : s.op.def.id));
    expect(op([join(dir, '*')])).toEqual(['ingest/read-files']);
    expect(op([join(dir, '*.txt'), 'x.txt'])).toEqual(['ingest/read-text']);
    expect(op([join(dir, '*.warc.gz')])).toEqual(['ingest/read-warc', 'clean/extract-html']);
    expect(() => readerSteps([join(dir, '*'), 'https://example.org/'], 1 << 20)).toThrow(
      /a URL to crawl \(https:\/\/example\.org\/\) cannot be read with files/,
    );
  });
});
