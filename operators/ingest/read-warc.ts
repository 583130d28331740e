// WARC files (plain or with one gzip member per record, globs allowed) through warcio: response records
// become documents with the raw HTTP payload (HTML or text) in `text`, plus url, content type, HTTP
// status and WARC date. Records stream one at a time (at most maxRecordBytes each). warcio ends quietly
// at a cut, so truncation is checked here: a record shorter than its Content-Length, or bytes left
// over after the last record, is a bad record reported with its byte offset; records before it stay.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { RecordBatch, Utf8, Int32 } from 'apache-arrow';
import { Int32 as Int32Type, Utf8 as Utf8Type } from 'apache-arrow';
import type { WARCRecord } from 'warcio';
import { z } from 'zod';
import { defineSource } from '../../src/core/operator.ts';
import { docColumns, schemaOf, type Doc } from '../../src/schema/index.ts';
import { RowBatcher } from '../../src/schema/row-batcher.ts';
import { expandGlobs, stableId } from '../../src/runtime/files.ts';
import { BadRecords, badRecordConfig, shownPath } from '../../src/runtime/rejects.ts';
import { docBatchLimits, readerBatches } from './reader-batches.ts';

export type WarcDoc = Doc & { content_type: Utf8; http_status: Int32; warc_date: Utf8 };
export const warcDocSchema = () =>
  schemaOf<WarcDoc>({
    ...docColumns(),
    content_type: { type: new Utf8Type(), nullable: true },
    http_status: { type: new Int32Type(), nullable: true },
    warc_date: { type: new Utf8Type(), nullable: true },
  });

const Config = z.object({
  paths: z
    .array(z.string().min(1))
    .min(1)
    .describe('WARC files (.warc, or .warc.gz with a gzip member per record) or glob patterns'),
  recordTypes: z
    .array(z.enum(['response', 'resource', 'conversion']))
    .min(1)
    .default(['response'])
    .describe('WARC-Type of the records to read; others are dropped as "warc record type"'),
  contentTypes: z
    .array(z.string())
    .default(['text/html', 'application/xhtml+xml', 'text/plain'])
    .describe("content types kept (prefix match on the payload's type; [] keeps all)"),
  okOnly: z.boolean().default(true).describe('keep only HTTP responses with a 2xx status'),
  maxRecordBytes: z
    .number()
    .int()
    .min(1)
    .default(32 << 20)
    .describe('larger records are dropped as "record too large" unread: memory stays bounded'),
  source: z.string().default('warc').describe('value of the source column'),
  ...docBatchLimits,
  ...badRecordConfig,
});
type Cfg = z.output<typeof Config>;

/** The payload decoded with the charset its Content-Type declares (UTF-8 when none or unknown). */
function decode(payload: Uint8Array, contentType: string | null): string {
  const label = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1];
  try {
    return new TextDecoder(label ?? 'utf-8').decode(payload);
  } catch {
    return new TextDecoder('utf-8').decode(payload);
  }
}

const keepType = (cfg: Cfg, ct: string | null) =>
  cfg.contentTypes.length === 0 || cfg.contentTypes.some((p) => (ct ?? '').toLowerCase().startsWith(p.toLowerCase()));

export const readWarc = defineSource({
  id: 'ingest/read-warc',
  description: 'read WARC response records (warcio) as documents with the raw HTML/text payload',
  config: Config,
  output: () => warcDocSchema(),
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<WarcDoc>> {
    const files = await expandGlobs(cfg.paths);
    // warcio (and its hashing WebAssembly) loads when a WARC file is read, not with every prep
    const { LimitReader, WARCParser } = await import('warcio');
    const schema = warcDocSchema();
    const bad = new BadRecords(ctx, cfg.onError, cfg.rejects);
    const rows = new RowBatcher(schema, cfg);
    yield* readerBatches(rows, bad, async function* () {
      for (const file of files) {
        const name = shownPath(file);
        const size = (await stat(file)).size;
        const parser = new WARCParser(createReadStream(file));
        let end = 0; // where the last complete record ended
        const truncated = async (offset: number, detail: string) => {
          await bad.report({
            reason: 'truncated WARC record',
            detail: `${detail}; records before it were kept`,
            where: { file: name, offset },
          });
          end = size;
        };
        let record: WARCRecord | null;
        for (;;) {
          try {
            record = await parser.parse();
          } catch (err) {
            await truncated(end, `cannot parse the record (${err instanceof Error ? err.message : String(err)})`);
            break;
          }
          if (!record) break;
          const offset = parser.offset;
          const type = record.warcType;
          if (!type || record.warcHeader('Content-Length') == null) {
            await truncated(offset, "the record's WARC header block is incomplete (no WARC-Type or Content-Length)");
            break;
          }
          // uncompressed: the block must fit in the file (warcio reads a short block without complaint);
          // gzip members are checked below, by what is left to read of the block
          const blockEnd = parser._warcHeadersLength + record.warcContentLength;
          if (parser._reader.compressed === null && blockEnd > size) {
            await truncated(
              offset,
              `record of ${record.warcContentLength} bytes (${record.warcTargetURI ?? 'no url'}) ends ${blockEnd - size} bytes early`,
            );
            break;
          }
          const http = record.httpHeaders;
          const contentType = http ? (http.headers.get('content-type') ?? null) : (record.warcContentType ?? null);
          const status = http?.statusCode === undefined ? null : Number(http.statusCode);
          const skip = !cfg.recordTypes.includes(type as Cfg['recordTypes'][number])
            ? 'warc record type'
            : record.warcContentLength > cfg.maxRecordBytes
              ? 'record too large'
              : cfg.okOnly && status !== null && (status < 200 || status > 299)
                ? 'http status'
                : !keepType(cfg, contentType)
                  ? 'content type'
                  : undefined;
          // the raw block first (kept for decoding below): what is left unread tells whether it is complete
          if (skip) await record.skipFully();
          else await record.readFully(false);
          const reader = record.reader;
          const missing = reader instanceof LimitReader ? reader.limit : 0;
          if (missing > 0) {
            await truncated(
              offset,
              `record of ${record.warcContentLength} bytes (${record.warcTargetURI ?? 'no url'}) ends ${missing} bytes early`,
            );
            break;
          }
          end = offset + parser.recordLength;
          if (skip) {
            ctx.stats.drop(skip);
            continue;
          }
          const text = decode(await record.readFully(true), contentType);
          const url = record.warcTargetURI ?? null;
          rows.push(
            {
              id: stableId(record.warcHeader('WARC-Record-ID') ?? `${url} ${record.warcDate ?? ''}`),
              text,
              url,
              source: cfg.source,
              content_type: contentType,
              http_status: status,
              warc_date: record.warcDate ?? null,
            },
            text.length,
          );
          if (rows.full) yield rows.flush();
        }
        // warcio stops quietly at a cut-off gzip member: bytes left over mean a truncated record
        if (size - end > 4)
          await truncated(
            end,
            `${size - end} bytes after the last complete record do not form a record (cut off or damaged)`,
          );
      }
    });
  },
});
