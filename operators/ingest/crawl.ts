// A polite, bounded HTTP crawler as a pull source: Doc rows (id = hash of the normalised URL, text = the
// raw HTML body) plus what the fetch saw. Pieces live in ./crawl/: url normalisation, address policy,
// robots.txt, fetching, frontier and seen set, saved state (JSON + a binary seen-set side file), WARC
// output, the loop, and the log report.
//
// Failures (broken links, timeouts, caps, refused addresses, robots, ...) are counted in ctx.stats drop
// reasons and summarised in ctx.log (broken links with the page that links them); with
// `emitErrors: true` each visited URL that gave no page is also a row: empty text, `error` set.
import type { Int32, RecordBatch, TimestampMillisecond, Utf8 } from 'apache-arrow';
import { Int32 as Int32Type, TimestampMillisecond as Timestamp, Utf8 as Utf8Type } from 'apache-arrow';
import { defineSource } from '../../src/core/operator.ts';
import { stableId } from '../../src/runtime/files.ts';
import { batchFromColumns, docColumns, schemaOf, type Doc } from '../../src/schema/index.ts';
import { CrawlConfig } from './crawl/config.ts';
import type { CrawlRow } from './crawl/crawler.ts';

export { CrawlConfig } from './crawl/config.ts';

export type Crawled = Doc & {
  status: Int32;
  content_type: Utf8;
  depth: Int32;
  referrer: Utf8;
  fetched_at: TimestampMillisecond;
  error: Utf8;
};

export const crawledSchema = () =>
  schemaOf<Crawled>({
    ...docColumns(),
    status: { type: new Int32Type(), nullable: true },
    content_type: { type: new Utf8Type(), nullable: true },
    depth: { type: new Int32Type() },
    referrer: { type: new Utf8Type(), nullable: true },
    fetched_at: { type: new Timestamp(), nullable: true },
    error: { type: new Utf8Type(), nullable: true },
  });

/** A partial batch waits at most this long while the crawler waits for the network. */
const FLUSH_MS = 1000;

export const crawl = defineSource({
  id: 'ingest/crawl',
  description: 'crawl http(s) sites from seed URLs (robots.txt, politeness, limits) into HTML documents',
  config: CrawlConfig,
  output: () => crawledSchema(),
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<Crawled>> {
    const schema = crawledSchema();
    let rows: CrawlRow[] = [];
    let since = performance.now();
    const flush = () => {
      const b = batchFromColumns(schema, {
        id: rows.map((r) => stableId(r.url)),
        text: rows.map((r) => r.text),
        url: rows.map((r) => r.url),
        source: rows.map(() => cfg.source),
        status: rows.map((r) => r.status),
        content_type: rows.map((r) => r.contentType),
        depth: rows.map((r) => r.depth),
        referrer: rows.map((r) => r.referrer),
        fetched_at: rows.map((r) => r.fetchedAt?.getTime() ?? null),
        error: rows.map((r) => r.error),
      });
      rows = [];
      since = performance.now();
      return b;
    };
    try {
      // the crawler's modules load when a crawl runs, not with every pipeline that could crawl
      const { Crawler } = await import('./crawl/crawler.ts');
      for await (const item of new Crawler(cfg, ctx).run()) {
        if (item === 'idle') {
          if (rows.length > 0 && performance.now() - since >= FLUSH_MS) yield flush();
          continue;
        }
        if (rows.length === 0) since = performance.now();
        rows.push(item);
        if (rows.length >= cfg.batchRows) yield flush();
      }
    } catch (err) {
      // the pages fetched before a fatal error still reach the consumer, then the error does
      if (rows.length > 0) yield flush();
      throw err;
    }
    if (rows.length > 0) yield flush();
  },
});
