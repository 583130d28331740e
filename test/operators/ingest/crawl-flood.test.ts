// The crawler's memory bound against link floods served on 127.0.0.1: one page of 250,000 unique links
// (the page that used to grow a crawl to gigabytes and kill it at 2^24 URLs), and pages that make new
// links without end. Pages carry real text (Debian's PostgreSQL manual, as in crawl.test.ts). The crawl
// must stay within its seen-set bound, count every link it could not keep, stop at maxPages and write
// its output; a fatal error must be reported as one, with what was crawled before it kept.
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { WARCParser } from 'warcio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crawl } from '../../../operators/ingest/crawl.ts';
import { SeenSet } from '../../../operators/ingest/crawl/seen-set.ts';
import { OperatorStats } from '../../../src/core/stats.ts';
import { runCrawl, rowsOf } from '../../fixtures/run-crawl.ts';
import { serveSite, type StaticSite } from '../../fixtures/static-site.ts';

const PG = '/usr/share/doc/postgresql-doc-15/html';
const MiB = 2 ** 20;
const FLOOD = 250_000;

let site: StaticSite;
let o: string;
let dir: string;
let manual: string[];
/** a manual page, the n-th in name order (cycling), without its own links (so a test knows every link) */
const realPage = (n: number) => manual[n % manual.length]!;
/** the fatal-error test turns this path into a directory when this many /gen/ pages were requested */
let blockState: { path: string; after: number } | undefined;
let genRequests = 0;

const page =
  (body: (path: string) => string): http.RequestListener =>
  (q, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' }).end(body(q.url!));
  };

beforeAll(async () => {
  manual = readdirSync(PG)
    .filter((f) => f.endsWith('.html'))
    .sort()
    .slice(0, 50)
    .map((f) => readFileSync(join(PG, f), 'utf8').replace(/<a\b[^>]*>|<\/a>/gi, ''));
  const floodPage = `<html><body>${Array.from({ length: FLOOD }, (_, i) => `<a href="/f/${i}.html">${i}</a>`).join('\n')}</body></html>`;
  site = await serveSite({
    routes: {
      '/flood.html': page(() => floodPage),
      '/f/*': page((p) => realPage(Number(/\d+/.exec(p)![0]))),
      // every page links 1,000 pages never seen before
      '/gen/*': page((p) => {
        if (blockState && ++genRequests === blockState.after)
          mkdirSync(join(blockState.path, 'x'), { recursive: true });
        const id = p.slice('/gen/'.length);
        const links = Array.from({ length: 1000 }, (_, j) => `<a href="/gen/${id}-${j}">x</a>`).join('');
        return realPage(id.length).replace('</body>', `${links}</body>`);
      }),
      // depth accounting: /d/t is met too deep (from /d/a) before a redirect admits it at depth 1
      '/d/s': page(() => '<a href="/d/a">a</a><a href="/d/r">r</a>'),
      '/d/a': page(() => '<a href="/d/t">t</a><a href="/d/u">u</a><a href="/d/v">v</a><a href="/d/u">u</a>'),
      '/d/r': (_q, res) => {
        res.writeHead(302, { Location: '/d/t' }).end();
      },
      '/d/t': page(() => '<p>t</p>'),
    },
  });
  o = site.origin;
  dir = mkdtempSync(join(tmpdir(), 'flowlm-crawl-flood-'));
});
afterAll(async () => {
  await site.close();
  rmSync(dir, { recursive: true, force: true });
});

const local = { allowAddresses: ['127.0.0.1'], politeness: false, concurrency: 4, perHostConcurrency: 4 };

async function warcResponses(path: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const rec of new WARCParser(createReadStream(path)))
    if (rec.warcType === 'response') out.set(rec.warcTargetURI!, await rec.contentText());
  return out;
}

describe('crawl: link floods stay within the seen-set bound', () => {
  it('a page of 250,000 unique links: bounded seen set, every link accounted for, stops at maxPages, writes', async () => {
    const warcPath = join(dir, 'flood.warc.gz');
    const run = await runCrawl({
      ...local,
      seeds: [`${o}/flood.html`],
      seenMemoryMB: 1,
      maxLinksPerPage: FLOOD,
      maxFrontier: 5000,
      maxPages: 20,
      warcPath,
    });
    const c = run.stats.counters!;
    const d = run.stats.dropReasons;
    const capacity = new SeenSet(MiB, 1e-6).info().capacity; // the run's structure: 1 MiB at the default rate
    console.log(
      `flood: seen set ${c['seen set urls']} URLs in ${c['seen set bytes']} bytes; drops ${JSON.stringify(d)}`,
    );
    expect(run.rows).toHaveLength(20);
    expect(run.rows.filter((r) => r.url.includes('/f/')).every((r) => manual.includes(r.text))).toBe(true);
    expect(c['seen set bytes']).toBeLessThanOrEqual(MiB);
    expect(c['seen set urls']).toBeLessThanOrEqual(capacity);
    expect(run.logs.some((l) => /^seen set: \d+ URLs in [\d.]+ MB \(bound 1\.00 MB, bloom\)/.test(l))).toBe(true);
    expect(run.logs.some((l) => l.startsWith('crawl page limit'))).toBe(true);
    // every link has one fate: pending, visited, dropped for a full frontier, or for a full seen set
    const pending = Number(/(\d+) pending/.exec(run.logs.find((l) => l.startsWith('crawl page limit'))!)![1]);
    expect(d['seen set full']).toBeGreaterThan(FLOOD - capacity - 1000);
    expect(d['frontier full']).toBeGreaterThan(0);
    const fates = d['seen set full']! + d['frontier full']! + pending + (run.rows.length - 1);
    expect(fates).toBeLessThanOrEqual(FLOOD);
    expect(fates).toBeGreaterThan(FLOOD - 10); // a false positive of the filter is a lost link (rate 1e-6)
    const warc = await warcResponses(warcPath);
    for (const r of run.rows) expect(warc.get(r.url)).toBe(r.text);
  });

  it('takes at most maxLinksPerPage distinct links from a page and counts the rest', async () => {
    const run = await runCrawl({ ...local, seeds: [`${o}/flood.html`], maxPages: 3, maxLinksPerPage: 1000 });
    expect(run.stats.dropReasons['page link limit']).toBe(FLOOD - 1000);
    expect(run.stats.counters!['seen set urls']).toBe(1001);
    const wide = await runCrawl({ ...local, seeds: [`${o}/flood.html`], maxPages: 3, maxLinksPerPage: 5000 });
    expect(wide.stats.counters!['seen set urls']).toBe(5001);
  });

  it('pages making new links without end: the seen set turns into a filter within its bound', async () => {
    const run = await runCrawl({ ...local, seeds: [`${o}/gen/0`], seenMemoryMB: 1, maxPages: 25 });
    const c = run.stats.counters!;
    expect(run.rows).toHaveLength(25);
    // 1,000 new links a page: past the 16,384 URLs the exact table of a 1 MB bound holds
    expect(c['seen set urls']).toBeGreaterThan(25 * 990);
    expect(c['seen set bytes']).toBeLessThanOrEqual(MiB);
    expect(run.logs.some((l) => l.includes('(bound 1.00 MB, bloom)'))).toBe(true);
    // a larger bound keeps the same URLs exactly (16 bytes each in a table of a quarter of it)
    const exact = await runCrawl({ ...local, seeds: [`${o}/gen/0`], seenMemoryMB: 8, maxPages: 25 });
    expect(exact.logs.some((l) => l.includes('(bound 8.00 MB, exact)'))).toBe(true);
    expect(exact.stats.counters!['seen set urls']).toBeGreaterThanOrEqual(c['seen set urls']!);
    // the stated rate sizes the filter: 1e-2 holds three times the URLs of 1e-6 in the same bound
    const cap = (p: number) => new SeenSet(MiB, p).info().capacity;
    expect(run.logs.some((l) => l.includes(`(stated 0.000001, at most ${cap(1e-6)} URLs)`))).toBe(true);
    const loose = await runCrawl({
      ...local,
      seeds: [`${o}/gen/0`],
      seenMemoryMB: 1,
      seenFalsePositive: 0.01,
      maxPages: 2,
    });
    expect(loose.logs.some((l) => l.includes(`(stated 0.01, at most ${cap(0.01)} URLs)`))).toBe(true);
  });
});

describe('crawl: depth accounting in the seen set', () => {
  it('counts a URL met only too deep once, and not when it is admitted later at a lower depth', async () => {
    const run = await runCrawl({ ...local, concurrency: 1, seeds: [`${o}/d/s`], maxDepth: 1 });
    expect(run.rows.map((r) => r.url.slice(o.length)).sort()).toEqual(['/d/a', '/d/s', '/d/t']);
    expect(run.stats.dropReasons['too deep']).toBe(2); // /d/u (twice on the page) and /d/v
    expect(run.stats.dropReasons.redirect).toBe(1);
  });
});

describe('crawl: a fatal error', () => {
  it('is logged as a fatal error with its cause; pages fetched before it are delivered and archived', async () => {
    // after the third request the state path becomes a directory: the save after five pages fails
    const statePath = join(dir, 'state-becomes-a-directory');
    blockState = { path: statePath, after: 3 };
    const warcPath = join(dir, 'fatal.warc.gz');
    const logs: string[] = [];
    const batches: RecordBatch[] = [];
    const error = await new Promise<unknown>((resolve) => {
      crawl(
        { ...local, seeds: [`${o}/gen/0`], statePath, stateEveryPages: 5, warcPath, concurrency: 1 },
        { stats: new OperatorStats('crawl'), log: (m) => logs.push(m) },
      ).subscribe({ next: (b) => batches.push(b), error: resolve, complete: () => resolve(undefined) });
    });
    expect(error).toBeInstanceOf(Error);
    const fatal = logs.find((l) => l.startsWith('crawl failed with a fatal error: '));
    expect(fatal).toMatch(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(fatal).toContain(`the WARC file keeps the`);
    expect(logs.some((l) => l.startsWith('crawl failed after'))).toBe(true);
    expect(logs.some((l) => l.includes('stopped by consumer'))).toBe(false);
    const rows = rowsOf(batches);
    expect(rows).toHaveLength(5);
    const warc = await warcResponses(warcPath);
    for (const r of rows) expect(warc.get(r.url)).toBe(r.text);
  });
});
