// HTML as bytes (a Binary `text` column): decoded by its byte-order mark, else its <meta charset> or
// http-equiv Content-Type, else UTF-8. Real text (the PostgreSQL 15 release notes: names with
// accents, dashes, quotes) encoded here as Windows-1252, UTF-16 and UTF-8, each must give the text the
// string path gives; wrong and unknown declarations give text (or a counted drop), never a throw.
import { execFileSync } from 'node:child_process';
import { Binary, RecordBatch, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { extractHtml } from '../../../../operators/clean/extract-html.ts';
import { decodeHtmlBytes } from '../../../../operators/clean/html/charset.ts';
import { pgPages, runOp, textBatch } from '../real-data.ts';

const [release] = pgPages(['release-15.html']);
const html = release!.html;

/** `s` encoded by glibc's iconv (an encoder independent of the decoder under test). */
const iconv = (s: string, to: string) => new Uint8Array(execFileSync('iconv', ['-f', 'utf-8', '-t', to], { input: s }));
const cp1252 = (s: string) => iconv(s, 'windows-1252');
const utf16le = (s: string) => Uint8Array.from([0xff, 0xfe, ...iconv(s, 'utf-16le')]);
const utf8 = (s: string) => new TextEncoder().encode(s);
const withMeta = (s: string, meta: string) => s.replace('<head>', `<head>${meta}`);
const bytesBatch = (rows: Uint8Array[]) => new RecordBatch({ text: vectorFromArray(rows, new Binary()).data[0]! });

// the page with its characters outside Windows-1252 replaced (it keeps é, ö, –, —, “, ”, ...)
const latin = html.replace(/[^\x00-\xff\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u20ac]/g, '?');

describe('HTML bytes', () => {
  it('decodes by <meta charset>, http-equiv, BOM, or UTF-8: the same rows as the string path', async () => {
    // characters Windows-1252 has at 0x80-0x9F (where ISO-8859-1 has control codes) among them
    expect(/[\u2013\u2014\u201c\u201d]/.test(latin)).toBe(true);
    const inputs = [
      cp1252(withMeta(latin, '<meta charset="windows-1252">')),
      cp1252(withMeta(latin, '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">')),
      utf16le(latin),
      Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8(latin)]),
      utf8(latin),
    ];
    const { rows } = await runOp(extractHtml, { title: 'column' }, [bytesBatch(inputs)]);
    const strings = await runOp(extractHtml, { title: 'column' }, [textBatch([latin])]);
    expect(rows).toHaveLength(inputs.length);
    const { text, title } = strings.rows[0]!;
    for (const r of rows) expect(r).toEqual({ text, title });
    expect(decodeHtmlBytes(inputs[0]!).source).toBe('meta');
    expect(decodeHtmlBytes(inputs[2]!)).toMatchObject({ source: 'bom', encoding: 'utf-16le' });
  });

  it('wrong declarations: unknown labels and UTF-16 in <meta> read as UTF-8 (counted), a wrong one gives mojibake', async () => {
    const inputs = [
      utf8(withMeta(latin, '<meta charset="no-such-charset">')),
      utf8(withMeta(latin, '<meta charset="utf-16">')),
      utf8(withMeta(latin, '<meta charset="windows-1252">')), // declared wrong: UTF-8 bytes
      cp1252(withMeta(latin, '<meta charset="shift_jis">')), // declared wrong: Windows-1252 bytes
    ];
    const { rows, stats } = await runOp(extractHtml, {}, [bytesBatch(inputs)]);
    const strings = await runOp(extractHtml, {}, [textBatch([latin])]);
    expect(stats.counters?.['extract.bad_charset']).toBe(2);
    expect(rows.slice(0, 2).map((r) => r.text)).toEqual([strings.rows[0]!.text, strings.rows[0]!.text]);
    expect(rows).toHaveLength(4);
    expect(rows[2]!.text).toContain('Ã©'); // é as UTF-8 bytes read as Windows-1252
    expect(rows[3]!.text).toContain('PostgreSQL 15');
  });

  it('binary junk as bytes is dropped as binary, whatever it declares', async () => {
    let seed = 7;
    const junk = Uint8Array.from({ length: 5000 }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 255);
    const declared = Uint8Array.from([...utf8('<meta charset="utf-16be"><p>'), ...junk]);
    const { stats } = await runOp(extractHtml, {}, [bytesBatch([junk, declared])]);
    expect(stats.dropReasons).toEqual({ 'extract.binary': 2 });
  });
});
