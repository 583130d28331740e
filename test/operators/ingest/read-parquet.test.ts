// write-parquet and read-parquet on real text (Moby-Dick paragraphs as Doc rows): round trips, hyparquet
// reading our files, a corrupt row group (named, skipped or fatal, other row groups kept) and a truncated
// file (named, the files before it kept).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RecordBatch } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { from, lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParquet } from '../../../operators/ingest/read-parquet.ts';
import { writeParquet } from '../../../operators/io/write-parquet.ts';
import { FlowError } from '../../../src/core/errors.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { formatSchema } from '../../../src/schema/compat.ts';
import { batchFromColumns, docSchema } from '../../../src/schema/index.ts';
import { cleanup, drain, mobyFiles, paragraphsOf, tmp } from './helpers.ts';

const dir = tmp('read-parquet');
afterAll(() => cleanup(dir));

/** Doc rows from Moby-Dick: every paragraph, url null for every fifth, source by group of chapters. */
let docs: { id: string; text: string; url: string | null; source: string }[] = [];
beforeAll(async () => {
  const files = await mobyFiles();
  docs = files.flatMap((f, c) =>
    paragraphsOf(readFileSync(f, 'utf8')).map((text, p) => ({
      id: `ch${c + 1}-p${p}`,
      text,
      url: p % 5 === 0 ? null : `https://www.gutenberg.org/moby/${c + 1}#${p}`,
      source: `moby-${Math.floor(c / 30)}`,
    })),
  );
});

/** The docs in batches of `rows`: each batch builds its own dictionary for `source`. */
const batches = (rows: number, from_ = 0, to = docs.length): RecordBatch[] => {
  const out: RecordBatch[] = [];
  for (let i = from_; i < to; i += rows) {
    const part = docs.slice(i, Math.min(i + rows, to));
    out.push(
      batchFromColumns(docSchema(), {
        id: part.map((d) => d.id),
        text: part.map((d) => d.text),
        url: part.map((d) => d.url),
        source: part.map((d) => d.source),
      }),
    );
  }
  return out;
};

const write = (path: string, input: RecordBatch[], config: Record<string, unknown> = {}) =>
  lastValueFrom(from(input).pipe(writeParquet({ path, ...config })));

const GROUP = 400;

describe('io/write-parquet and ingest/read-parquet', () => {
  it('round trip: rows, dictionary column and row groups survive; hyparquet reads the same rows', async () => {
    const path = join(dir, 'moby.parquet');
    const res = await write(path, batches(300), { rowGroupRows: GROUP });
    expect(res).toMatchObject({ rows: docs.length, files: [path], cancelled: false });

    const meta = parquetMetadata(readFileSync(path).buffer as ArrayBuffer);
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual(
      Array.from({ length: Math.ceil(docs.length / GROUP) }, (_, g) => Math.min(GROUP, docs.length - g * GROUP)),
    );

    const back = await drain(readParquet, { paths: [path], batchRows: 1000 });
    expect(back.error).toBeUndefined();
    expect(back.rows).toEqual(docs);
    expect(formatSchema(back.batches[0]!.schema)).toBe(
      '{ id: Utf8, text: Utf8, url: Utf8?, source: Dictionary<Utf8> }',
    );
    expect(formatSchema(readParquet.def.output(readParquet.def.config.parse({ paths: [path] })))).toBe(
      formatSchema(back.batches[0]!.schema),
    );

    const hy = await parquetReadObjects({ file: readFileSync(path).buffer as ArrayBuffer });
    expect(hy).toEqual(docs);
  });

  it('zstd, a column subset, and batches whose nullability differs', async () => {
    const path = join(dir, 'zstd.parquet');
    // the first batch has null urls, the second none: both must land in one file with one schema
    const noNulls = docs.slice(0, 200).map((d) => ({ ...d, url: d.url ?? 'https://www.gutenberg.org/moby' }));
    const second = batchFromColumns(docSchema(), {
      id: noNulls.map((d) => d.id),
      text: noNulls.map((d) => d.text),
      url: noNulls.map((d) => d.url),
      source: noNulls.map((d) => d.source),
    });
    await write(path, [...batches(250, 0, 500), second], { compression: 'zstd' });
    const meta = parquetMetadata(readFileSync(path).buffer as ArrayBuffer);
    expect(meta.row_groups[0]!.columns.every((c) => c.meta_data?.codec === 'ZSTD')).toBe(true);
    const back = await drain(readParquet, { paths: [path], columns: ['text', 'id'] });
    expect(back.rows).toEqual([...docs.slice(0, 500), ...noNulls].map((d) => ({ text: d.text, id: d.id })));
  });

  it('a corrupt row group is named; with skip the other row groups and the next file are kept', async () => {
    const path = join(dir, 'good.parquet');
    await write(path, batches(500), { rowGroupRows: GROUP });
    const bytes = readFileSync(path);
    const meta = parquetMetadata(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    );
    const text = meta.row_groups[2]!.columns.find((c) => c.meta_data?.path_in_schema.join('.') === 'text')!.meta_data!;
    const start = Number(text.dictionary_page_offset ?? text.data_page_offset);
    const bad = Buffer.from(bytes);
    bad.fill(0x5a, start + 20, start + 220); // damage the pages of row group 2's text column
    const badPath = join(dir, 'bad.parquet');
    writeFileSync(badPath, bad);
    const other = join(dir, 'other.parquet');
    await write(other, batches(500, 0, 700));
    const lost = new Set(docs.slice(2 * GROUP, 3 * GROUP).map((d) => d.id));

    const skip = await drain(readParquet, { paths: [badPath, other] });
    expect(skip.error).toBeUndefined();
    expect(skip.rows).toEqual([...docs.filter((d) => !lost.has(d.id)), ...docs.slice(0, 700)]);
    expect(skip.ctx.stats.dropReasons.get('corrupt row group')).toBe(GROUP);
    expect(skip.log[0]).toContain(badPath);
    expect(skip.log[0]).toMatch(/row group 2 of \d+ \(rows 800-1199\)/);

    const fail = await drain(readParquet, { paths: [badPath, other], onError: 'fail' });
    expect(fail.error).toBeInstanceOf(FlowError);
    expect((fail.error as FlowError).location).toMatchObject({ file: badPath, row: 2 * GROUP });
    expect(fail.error!.message).toMatch(/row group 2/);
    expect(fail.rows).toEqual(docs.slice(0, 2 * GROUP)); // the row groups before it were read
  });

  it('a truncated file is named at validation and at run time; files before it are read', async () => {
    const whole = join(dir, 'whole.parquet');
    await write(whole, batches(500, 0, 600));
    const bytes = readFileSync(whole);
    const cut = join(dir, 'cut.parquet');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 300));
    expect(() => readParquet.def.output(readParquet.def.config.parse({ paths: [cut] }))).toThrow(
      /cut\.parquet.*not a Parquet file.*PAR1/,
    );

    const r = await drain(readParquet, { paths: [whole, cut] });
    expect(r.error).toBeInstanceOf(FlowError);
    expect(r.error!.message).toContain(cut);
    expect(r.error!.message).toMatch(/cannot open the Parquet file/);
    expect(r.rows).toEqual(docs.slice(0, 600));
  });

  it('runs in a pipeline by id: the declared schema comes from the file, the output is atomic', async () => {
    const src = join(dir, 'src.parquet');
    await write(src, batches(400, 0, 1200));
    const out = join(dir, 'out', 'copy.parquet');
    const r = await runPipeline({
      steps: [
        { id: 'read', op: 'ingest/read-parquet', config: { paths: [src], batchRows: 256 } },
        { id: 'write', op: 'io/write-parquet', config: { path: out, rowGroupRows: 500 } },
      ],
    });
    expect(r.ok).toBe(true);
    expect(r.sinks[0]).toMatchObject({ rows: 1200, files: [out] });
    expect(await parquetReadObjects({ file: readFileSync(out).buffer as ArrayBuffer })).toEqual(docs.slice(0, 1200));
  });
});
