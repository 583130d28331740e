// read-warc on WARC files written by warcio from real text (Moby-Dick chapters served as HTML): response
// records become documents, other records are counted, and a truncated record (plain or gzip member) is
// reported with its byte offset while the records before it, and the next file, are kept.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WARCRecord, WARCSerializer } from 'warcio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWarc } from '../../../operators/ingest/read-warc.ts';
import { FlowError } from '../../../src/core/errors.ts';
import { cleanup, drain, mobyFiles, tmp } from './helpers.ts';

const dir = tmp('read-warc');
afterAll(() => cleanup(dir));

interface Page {
  url: string;
  html: string;
  status: number;
  contentType: string;
  body: Uint8Array;
}
let pages: Page[] = [];
beforeAll(async () => {
  const files = (await mobyFiles()).slice(0, 12);
  pages = files.map((f, i) => {
    const text = readFileSync(f, 'utf8');
    const html = `<!doctype html><html><head><title>Chapter ${i + 1}</title></head><body>${text
      .split(/\n\s*\n/)
      .map((p) => `<p>${p}</p>`)
      .join('\n')}</body></html>`;
    return {
      url: `https://moby.example/chapter/${i + 1}`,
      html,
      status: 200,
      contentType: 'text/html; charset=utf-8',
      body: Buffer.from(html),
    };
  });
  // a Latin-1 page: decoded with the charset its Content-Type names
  const latin = `<html><body><p>Café, déjà vu: ${readFileSync(files[0]!, 'utf8')
    .slice(0, 400)
    .replace(/[^\x20-\x7e]/g, ' ')}</p></body></html>`;
  pages.push({
    url: 'https://moby.example/latin1',
    html: latin,
    status: 200,
    contentType: 'text/html; charset=iso-8859-1',
    body: Buffer.from(latin, 'latin1'),
  });
});

const enc = new TextEncoder();
/** warcinfo, then per page a request and a response; plus a 404 page and a PNG, which are dropped. */
async function warc(gzip: boolean): Promise<{ bytes: Buffer; offsets: Map<string, number> }> {
  const parts: Uint8Array[] = [];
  const offsets = new Map<string, number>();
  let at = 0;
  const add = async (r: WARCRecord, key?: string) => {
    const b = await WARCSerializer.serialize(r, { gzip });
    if (key) offsets.set(key, at);
    parts.push(b);
    at += b.length;
  };
  const date = '2024-05-06T07:08:09Z';
  await add(WARCRecord.createWARCInfo({ filename: 'moby.warc', warcVersion: 'WARC/1.1' }, { software: 'flowlm test' }));
  const response = (url: string, status: string, contentType: string, body: Uint8Array) =>
    WARCRecord.create(
      {
        url,
        date,
        type: 'response',
        warcVersion: 'WARC/1.1',
        statusline: `HTTP/1.1 ${status}`,
        httpHeaders: { 'Content-Type': contentType },
      },
      [body],
    );
  for (const [i, p] of pages.entries()) {
    await add(
      WARCRecord.create(
        {
          url: p.url,
          date,
          type: 'request',
          warcVersion: 'WARC/1.1',
          statusline: `GET /chapter/${i + 1} HTTP/1.1`,
          httpHeaders: { Host: 'moby.example' },
        },
        [],
      ),
    );
    await add(response(p.url, '200 OK', p.contentType, p.body), p.url);
    if (i === 3)
      await add(
        response('https://moby.example/missing', '404 Not Found', 'text/html', enc.encode('<html>not here</html>')),
      );
    if (i === 5)
      await add(
        response(
          'https://moby.example/whale.png',
          '200 OK',
          'image/png',
          new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]),
        ),
      );
  }
  return { bytes: Buffer.concat(parts), offsets };
}

describe('ingest/read-warc', () => {
  it('response records become documents (plain and gzip-per-record alike); the rest is counted', async () => {
    for (const gzip of [false, true]) {
      const path = join(dir, `pages.warc${gzip ? '.gz' : ''}`);
      writeFileSync(path, (await warc(gzip)).bytes);
      const r = await drain(readWarc, { paths: [path], batchRows: 5 });
      expect(r.error).toBeUndefined();
      expect(r.rows.map((x) => [x.url, x.text, x.http_status, x.content_type, x.warc_date, x.source])).toEqual(
        pages.map((p) => [p.url, p.html, 200, p.contentType, '2024-05-06T07:08:09Z', 'warc']),
      );
      expect(new Set(r.rows.map((x) => x.id)).size).toBe(pages.length);
      expect(Object.fromEntries(r.ctx.stats.dropReasons)).toEqual({
        'warc record type': 1 + pages.length,
        'http status': 1,
        'content type': 1,
      });
    }
  });

  for (const gzip of [false, true]) {
    it(`a truncated ${gzip ? 'gzip member' : 'record'} is reported with its offset; records before it and the next file are kept`, async () => {
      const { bytes, offsets } = await warc(gzip);
      const victim = pages[8]!.url;
      const start = offsets.get(victim)!;
      const cutPath = join(dir, `cut${gzip ? '.warc.gz' : '.warc'}`);
      const next = join(dir, `next${gzip ? '.warc.gz' : '.warc'}`);
      writeFileSync(next, bytes);
      // cut inside the WARC headers, the HTTP headers and the payload of the ninth page's record
      for (const into of [40, 300, 1500]) {
        writeFileSync(cutPath, bytes.subarray(0, start + into));
        const skip = await drain(readWarc, { paths: [cutPath, next] });
        expect(skip.error).toBeUndefined();
        expect(skip.rows.map((x) => x.url)).toEqual([...pages.slice(0, 8), ...pages].map((p) => p.url));
        expect(skip.rows.slice(0, 8).map((x) => x.text)).toEqual(pages.slice(0, 8).map((p) => p.html));
        expect(skip.ctx.stats.dropReasons.get('truncated WARC record')).toBe(1);
        expect(skip.log[0]).toContain(cutPath);
        expect(skip.log[0]).toContain(`byte ${start}`);
      }

      const fail = await drain(readWarc, { paths: [cutPath, next], onError: 'fail', batchRows: 3 });
      expect(fail.error).toBeInstanceOf(FlowError);
      expect((fail.error as FlowError).location).toEqual({ file: cutPath, offset: start });
      expect(fail.error!.message).toMatch(/truncated WARC record/);
      expect(fail.rows.map((x) => x.url)).toEqual(pages.slice(0, 8).map((p) => p.url));
    });
  }
});
