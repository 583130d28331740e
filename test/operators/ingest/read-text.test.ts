// read-text on real text: units, .gz, invalid UTF-8 and truncated .gz (named with file and byte offset,
// good documents before and after kept), and bounded memory on a file of hundreds of megabytes.
import { createWriteStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readText } from '../../../operators/ingest/read-text.ts';
import { FlowError } from '../../../src/core/errors.ts';
import { stableId } from '../../../src/runtime/files.ts';
import { cleanup, drain, mobyFiles, paragraphsOf, sotuFiles, tmp } from './helpers.ts';

const dir = tmp('read-text');
afterAll(() => cleanup(dir));

const texts = (rows: Record<string, unknown>[]) => rows.map((r) => r.text as string);

describe('ingest/read-text', () => {
  it('reads Moby-Dick per paragraph, line and file, and the same from .gz files', async () => {
    const files = (await mobyFiles()).slice(0, 30);
    const contents = files.map((f) => readFileSync(f, 'utf8'));
    const para = await drain(readText, { paths: files, unit: 'paragraph', batchRows: 50 });
    expect(para.error).toBeUndefined();
    expect(texts(para.rows)).toEqual(contents.flatMap(paragraphsOf));
    expect(new Set(para.rows.map((r) => r.id)).size).toBe(para.rows.length);
    expect(para.rows.every((r) => r.source === 'text' && r.url === null)).toBe(true);

    const lines = await drain(readText, { paths: files, unit: 'line' });
    expect(texts(lines.rows)).toEqual(
      contents.flatMap((c) =>
        c
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l.length > 0),
      ),
    );
    const whole = await drain(readText, { paths: files, unit: 'file', source: 'moby' });
    expect(texts(whole.rows)).toEqual(contents.map((c) => c.trim()));

    files.forEach((f, i) =>
      writeFileSync(join(dir, `ch${String(i).padStart(2, '0')}.txt.gz`), gzipSync(readFileSync(f))),
    );
    const gz = await drain(readText, { paths: [join(dir, 'ch*.txt.gz')], unit: 'paragraph' });
    expect(texts(gz.rows)).toEqual(texts(para.rows));
  });

  it('a plain file read whole gives the document, id and batching the line-by-line path gives', async () => {
    const [chapter] = await mobyFiles();
    const edge: Record<string, string> = {
      bom: `\uFEFF  ${readFileSync(chapter!, 'utf8').slice(0, 3000).replace(/\n/g, '\r\n')}\r\n\r\n`,
      empty: '',
      bomonly: '\uFEFF',
      blank: ' \n\t \n',
      short: ' ab\n',
      nofinal: 'no final newline: ünïcödé — “quotes”',
      nbspend: 'ends in a no-break space\u00a0',
      widestart: '\u3000starts with an ideographic space\n',
      emoji: '😀 at the start and the end 😀\n',
    };
    const names = Object.keys(edge).sort();
    for (const n of names) {
      writeFileSync(join(dir, `w-${n}.txt`), edge[n]!);
      writeFileSync(join(dir, `w-${n}.txt.gz`), gzipSync(Buffer.from(edge[n]!)));
    }
    const cfg = { unit: 'file', minChars: 3, batchBytes: 2000 } as const;
    const plain = await drain(readText, { ...cfg, paths: [join(dir, 'w-*.txt')] });
    const gz = await drain(readText, { ...cfg, paths: [join(dir, 'w-*.txt.gz')] }); // .gz files always take the line path
    expect(plain.error).toBeUndefined();
    expect(texts(plain.rows)).toEqual(texts(gz.rows));
    expect(texts(plain.rows)).toEqual(names.map((n) => edge[n]!.trim()).filter((t) => t.length >= 3));
    expect(plain.batches.map((b) => b.numRows)).toEqual(gz.batches.map((b) => b.numRows));
    expect(plain.ctx.stats.dropReasons).toEqual(gz.ctx.stats.dropReasons);
    expect(plain.ctx.stats.dropReasons.get('too short')).toBe(2);
    // ids: path and the offset where the document starts (after a byte order mark)
    const idOf = (n: string) =>
      stableId(`${relative(process.cwd(), join(dir, `w-${n}.txt`))}:${edge[n]!.startsWith('\uFEFF') ? 3 : 0}`);
    expect(plain.rows.map((r) => r.id)).toEqual(names.filter((n) => edge[n]!.trim().length >= 3).map(idOf));
  });

  it('invalid UTF-8: the paragraph is reported with file and byte offset, the others are kept', async () => {
    const [first, second] = await mobyFiles();
    const bytes = readFileSync(first!);
    const paragraphs = paragraphsOf(bytes.toString('utf8'));
    const at = bytes.indexOf(0x20, bytes.indexOf(Buffer.from(paragraphs[5]!))); // at a space inside the sixth paragraph
    const badFile = join(dir, 'bad-utf8.txt');
    writeFileSync(badFile, Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xfe]), bytes.subarray(at)]));
    const rejects = join(dir, 'rejects', 'utf8.jsonl');

    const skip = await drain(readText, { paths: [badFile, second!], unit: 'paragraph', rejects });
    expect(skip.error).toBeUndefined();
    const expected = [
      ...paragraphs.slice(0, 5),
      ...paragraphs.slice(6),
      ...paragraphsOf(readFileSync(second!, 'utf8')),
    ];
    expect(texts(skip.rows)).toEqual(expected);
    expect(skip.ctx.stats.dropReasons.get('invalid UTF-8')).toBe(1);
    expect(skip.log[0]).toContain(`${badFile}`);
    expect(skip.log[0]).toContain(`byte ${at}`);
    const rejected = readFileSync(rejects, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ reason: 'invalid UTF-8', file: badFile, offset: at, rows: 1 });

    const fail = await drain(readText, { paths: [badFile], unit: 'paragraph', batchRows: 1, onError: 'fail' });
    expect(fail.error).toBeInstanceOf(FlowError);
    expect((fail.error as FlowError).location).toMatchObject({ file: badFile, offset: at });
    expect(fail.error!.message).toMatch(/invalid UTF-8.*onError/);
    expect(texts(fail.rows)).toEqual(paragraphs.slice(0, 5)); // everything before it was emitted
  });

  it('truncated .gz: documents completed before the cut are kept, the cut is named, the next file is read', async () => {
    const files = (await mobyFiles()).slice(0, 12);
    const text = files
      .slice(0, 11)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n\n');
    const gz = gzipSync(Buffer.from(text));
    const cut = gz.subarray(0, Math.floor(gz.length * 0.6));
    const cutFile = join(dir, 'cut.txt.gz');
    const nextFile = join(dir, 'next.txt.gz');
    writeFileSync(cutFile, cut);
    writeFileSync(nextFile, gzipSync(readFileSync(files[11]!)));
    // what an independent decoder recovers from the cut stream, up to the last paragraph break
    const partial = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
    const breaks = [...partial.matchAll(/\n\s*\n/g)];
    const complete = paragraphsOf(partial.slice(0, breaks.at(-1)!.index));
    const next = paragraphsOf(readFileSync(files[11]!, 'utf8'));

    const skip = await drain(readText, { paths: [cutFile, nextFile], unit: 'paragraph' });
    expect(skip.error).toBeUndefined();
    expect(complete.length).toBeGreaterThan(50);
    expect(texts(skip.rows)).toEqual([...complete, ...next]);
    expect(skip.ctx.stats.dropReasons.get('truncated gzip')).toBe(1);
    expect(skip.log[0]).toContain(cutFile);
    expect(skip.log[0]).toContain(`byte ${cut.length}`);

    const fail = await drain(readText, { paths: [cutFile, nextFile], unit: 'line', onError: 'fail' });
    expect(fail.error).toBeInstanceOf(FlowError);
    expect((fail.error as FlowError).location).toMatchObject({ file: cutFile, offset: cut.length });
    expect(fail.error!.message).toMatch(/truncated gzip/);
    const lines = partial
      .slice(0, partial.lastIndexOf('\n'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
    expect(texts(fail.rows)).toEqual(lines); // every complete line before the cut, then the error
  });

  it('an over-long document is a bad record, not a memory spike', async () => {
    const [first] = await mobyFiles();
    const paragraphs = paragraphsOf(readFileSync(first!, 'utf8'));
    const longest = Math.max(...paragraphs.map((p) => Buffer.byteLength(p)));
    const r = await drain(readText, { paths: [first!], unit: 'paragraph', maxDocBytes: longest - 1 });
    expect(r.rows.length + (r.ctx.stats.dropReasons.get('document too large') ?? 0)).toBe(paragraphs.length);
    expect(r.ctx.stats.dropReasons.get('document too large')).toBeGreaterThanOrEqual(1);
    expect(r.log[0]).toMatch(/document too large.*maxDocBytes/);
  });

  it('memory stays bounded on a file of ~400 MB read by a slow consumer', async () => {
    const corpus = [...(await sotuFiles()), ...(await mobyFiles())];
    const one = Buffer.concat(corpus.map((f) => Buffer.concat([readFileSync(f), Buffer.from('\n\n')])));
    const copies = Math.ceil(400e6 / one.length);
    const big = join(dir, 'big.txt');
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < copies; i++) yield one;
        })(),
      ),
      createWriteStream(big),
    );
    const size = statSync(big).size;
    const perCopy = paragraphsOf(one.toString('utf8')).length;

    const ctx = (await import('../../../src/core/context.ts')).makeContext('read');
    const base = process.memoryUsage().rss;
    let peak = 0,
      rows = 0;
    for await (const b of readText.def.make(
      readText.def.config.parse({ paths: [big], unit: 'paragraph', batchBytes: 2 << 20 }),
      ctx,
    )) {
      rows += b.numRows;
      peak = Math.max(peak, process.memoryUsage().rss - base);
      await new Promise((r) => setTimeout(r, 1)); // a slow consumer: the reader must wait, not buffer
    }
    expect(rows).toBe(perCopy * copies);
    if (process.env.FLOWLM_TEST_VERBOSE)
      console.log(`read ${(size / 1e6).toFixed(0)} MB, RSS grew at most ${(peak / 1e6).toFixed(0)} MB`);
    expect(peak).toBeLessThan(size / 3);
  });
});
