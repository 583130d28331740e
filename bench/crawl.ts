// Crawl throughput: the whole PostgreSQL 15 HTML manual (Debian postgresql-doc-15, ~1000 pages reachable)
// served on 127.0.0.1 in this process, crawled with politeness off. Baseline: the same URL list fetched
// with plain node:http at the same concurrency (no robots, frontier, link extraction or batches), so
// the ratio is the crawler's own overhead. Median of several rounds.
// Usage: npm run bench -- crawl [rounds=5] [concurrency=8]
import http from 'node:http';
import { lastValueFrom, toArray } from 'rxjs';
import { crawl } from '../operators/ingest/crawl.ts';
import { serveSite } from '../test/fixtures/static-site.ts';

const PG = '/usr/share/doc/postgresql-doc-15/html';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function fetchAll(urls: string[], concurrency: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < urls.length) {
      const url = urls[next++]!;
      bytes += await new Promise<number>((ok, fail) =>
        http
          .get(url, { agent }, (res) => {
            let n = 0;
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => {
              n += c.length;
              chunks.push(c);
            });
            res.on('end', () => {
              Buffer.concat(chunks).toString('utf8');
              ok(n);
            });
          })
          .on('error', fail),
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return bytes;
}

export default async function crawlBench(args: string[]): Promise<Record<string, unknown>> {
  const rounds = Number(args[0] ?? 5);
  const concurrency = Number(args[1] ?? 8);
  const site = await serveSite({ mounts: { '/pg/': PG }, robots: 'User-agent: *\nDisallow: /pg/sql-\n' });
  const seeds = [`${site.origin}/pg/index.html`];
  const crawlRates: number[] = [];
  const baseRates: number[] = [];
  let pages = 0;
  let mb = 0;
  const secs: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const batches = await lastValueFrom(
        crawl(
          {
            seeds,
            allowAddresses: ['127.0.0.1'],
            politeness: false,
            concurrency,
            perHostConcurrency: concurrency,
            maxDepth: 100,
          },
          { log: () => undefined },
        ).pipe(toArray()),
      );
      const s = (performance.now() - t0) / 1000;
      const urls = batches.flatMap((b) => Array.from(b.getChild('url')!, (u) => String(u)));
      pages = urls.length;
      mb = batches.reduce((n, b) => n + b.getChild('text')!.data[0]!.values.byteLength, 0) / 1e6;
      crawlRates.push(pages / s);
      secs.push(s);
      const t1 = performance.now();
      await fetchAll(urls, concurrency);
      baseRates.push(pages / ((performance.now() - t1) / 1000));
      console.error(
        `round ${r + 1}: crawl ${pages} pages in ${s.toFixed(2)} s (${(pages / s).toFixed(0)}/s); plain http ${baseRates.at(-1)!.toFixed(0)}/s`,
      );
    }
  } finally {
    await site.close();
  }
  const rate = median(crawlRates);
  const base = median(baseRates);
  return {
    bench: 'crawl',
    pages,
    mb: Number(mb.toFixed(2)),
    seconds: Number(median(secs).toFixed(3)),
    rounds,
    concurrency,
    pages_per_s: Math.round(rate),
    baseline_pages_per_s: Math.round(base),
    ratio_to_plain_http: Number((rate / base).toFixed(2)),
    target_pages_per_s: 100,
  };
}
