// Optional WARC output of what the crawl fetched: a warcinfo record, then a request and a response
// record per HTTP exchange (any status, robots.txt included). Written under a temporary name and
// renamed into place when the crawl ends, so a reader never sees half an archive.
import { mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { WARCRecord, WARCSerializer } from 'warcio';
import { AtomicFile } from '../../../src/runtime/files.ts';
import type { FetchResult } from './fetch-page.ts';

// Bodies are stored as decoded by node:http (chunked framing removed), so the framing header goes.
const DROP_HEADERS = new Set(['transfer-encoding']);

export class WarcWriter {
  private readonly file: AtomicFile;
  private tail: Promise<void> = Promise.resolve();
  private failed?: unknown;
  records = 0;
  /** records queued and not yet written */
  backlog = 0;

  constructor(
    path: string,
    private readonly gzip: boolean,
    software: string,
  ) {
    const abs = resolve(path);
    mkdirSync(dirname(abs), { recursive: true });
    this.file = new AtomicFile(abs);
    this.enqueue(() =>
      WARCRecord.createWARCInfo(
        { filename: basename(abs), warcVersion: 'WARC/1.1' },
        {
          software,
          format: 'WARC File Format 1.1',
          robots: 'obey',
        },
      ),
    );
  }

  /** Append the request/response pair of one exchange (no-op when no response arrived). */
  add(r: FetchResult): void {
    if (r.status === null) return;
    const date = r.startedAt.toISOString();
    const url = r.url.href;
    const response = WARCRecord.create(
      {
        url,
        date,
        type: 'response',
        warcVersion: 'WARC/1.1',
        keepHeadersCase: true,
        statusline: `HTTP/${r.httpVersion} ${r.status} ${r.statusText}`.trimEnd(),
        httpHeaders: pairs(r.rawHeaders),
        warcHeaders: r.truncated || r.failure ? { 'WARC-Truncated': r.failure === 'timeout' ? 'time' : 'length' } : {},
      },
      [r.body],
    );
    const responseId = response.warcHeaders.headers.get('WARC-Record-ID') ?? '';
    const request = WARCRecord.create(
      {
        url,
        date,
        type: 'request',
        warcVersion: 'WARC/1.1',
        keepHeadersCase: true,
        statusline: `GET ${r.url.pathname}${r.url.search} HTTP/1.1`,
        httpHeaders: [['Host', r.url.host], ...Object.entries(r.requestHeaders)],
        warcHeaders: responseId ? { 'WARC-Concurrent-To': responseId } : {},
      },
      [],
    );
    this.enqueue(() => request);
    this.enqueue(() => response);
  }

  private enqueue(make: () => WARCRecord): void {
    this.backlog++;
    this.tail = this.tail.then(async () => {
      try {
        if (!this.failed) await this.file.write(await WARCSerializer.serialize(make(), { gzip: this.gzip }));
        this.records++;
      } catch (err) {
        this.failed = err;
      } finally {
        this.backlog--;
      }
    });
  }

  /** Resolves when every queued record is written: the crawl waits here when the backlog grows. */
  drain(): Promise<void> {
    return this.tail;
  }

  /** Wait for pending records, then rename the file into place. */
  async commit(): Promise<string> {
    await this.tail;
    if (this.failed) {
      await this.file.abort();
      throw this.failed;
    }
    return this.file.commit();
  }

  async abort(): Promise<void> {
    await this.tail;
    await this.file.abort();
  }
}

function pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2)
    if (!DROP_HEADERS.has(raw[i]!.toLowerCase())) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}
