// The crawler against servers that misbehave (slow, endless redirects, huge, non-HTML, cut off), broken
// robots.txt, and URLs it must refuse without sending a packet (other schemes, private addresses).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { crawl } from '../../../operators/ingest/crawl.ts';
import { makeContext } from '../../../src/core/context.ts';
import { serveSite, type StaticSite } from '../../fixtures/static-site.ts';
import { runCrawl, type Row } from '../../fixtures/run-crawl.ts';

const html = (body: string) => `<!doctype html><html><head><title>t</title></head><body>${body}</body></html>`;
const links = (...hrefs: string[]) => html(hrefs.map((h) => `<a href="${h}">${h}</a>`).join('\n'));
const page =
  (body: string): http.RequestListener =>
  (_q, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' }).end(body);
  };

let bigBytesSent = 0;
const hostileRoutes: Record<string, http.RequestListener> = {
  '/index.html': page(
    links(
      '/ok.html',
      '/slow-head',
      '/slow-body',
      '/redirect/0',
      '/loop/a',
      '/big',
      '/big-declared',
      '/binary',
      '/cut',
      '/reset',
      '/500',
      '/to-file',
      'ftp://127.0.0.1/x',
      'file:///etc/passwd',
      'mailto:a@b.c',
      'ok.html#again',
    ),
  ),
  '/ok.html': page(html('<p>fine</p>')),
  '/slow-head': () => {
    /* never answers */
  },
  '/slow-body': (_q, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.write('<html><body>');
  },
  '/redirect/*': (q, res) => {
    res.writeHead(302, { Location: `/redirect/${Number(q.url!.split('/')[2]) + 1}` }).end();
  },
  '/loop/a': (_q, res) => {
    res.writeHead(301, { Location: '/loop/b' }).end();
  },
  '/loop/b': (_q, res) => {
    res.writeHead(301, { Location: '/loop/a' }).end();
  },
  '/big': (_q, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const pump = () => {
      while (bigBytesSent < 50e6 && !res.destroyed && res.write(chunk)) bigBytesSent += chunk.length;
    };
    res.on('drain', pump);
    pump();
  },
  '/big-declared': (_q, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': 50_000_000 });
    res.write('<html>');
  },
  '/binary': (_q, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(Buffer.alloc(100_000));
  },
  '/cut': (q, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': 10_000 });
    res.write('<html>'.repeat(50), () => q.socket.destroy());
  },
  '/reset': (q) => {
    q.socket.destroy();
  },
  '/500': (_q, res) => {
    res.writeHead(500, { 'Content-Type': 'text/html' }).end('oops');
  },
  '/to-file': (_q, res) => {
    res.writeHead(302, { Location: 'file:///etc/passwd' }).end();
  },
};

let hostile: StaticSite;
beforeAll(async () => {
  hostile = await serveSite({ routes: hostileRoutes, robots: '' });
});
afterAll(() => hostile.close());
afterEach(() => {
  vi.restoreAllMocks();
});

const byUrl = (rows: Row[]) => new Map(rows.map((r) => [new URL(r.url).pathname, r]));
const local = { allowAddresses: ['127.0.0.1'], politeness: false, emitErrors: true };

describe('crawl: hostile servers', () => {
  it('bounds and reports each misbehaviour, and the crawl finishes', async () => {
    hostile.log.length = 0;
    bigBytesSent = 0;
    const run = await runCrawl({
      ...local,
      seeds: [`${hostile.origin}/index.html`],
      timeoutMs: 700,
      maxRedirects: 3,
      maxBodyBytes: 200_000,
    });
    expect(run.ms).toBeLessThan(700 + 5000); // both slow URLs time out in parallel
    const rows = byUrl(run.rows);
    const reason = (p: string) => rows.get(p)?.error?.split(':')[0];
    expect(rows.get('/ok.html')!.text).toContain('fine');
    expect(rows.get('/index.html')!.error).toBeNull();
    expect(reason('/slow-head')).toBe('timeout');
    expect(reason('/slow-body')).toBe('timeout');
    expect(reason('/redirect/3')).toBe('redirect limit');
    expect(hostile.log.filter((p) => p.startsWith('/redirect/'))).toEqual([
      '/redirect/0',
      '/redirect/1',
      '/redirect/2',
      '/redirect/3',
    ]);
    expect(reason('/loop/b')).toBe('redirect loop');
    expect(rows.get('/loop/b')!.error).toContain('/loop/a -> ');
    expect(reason('/big')).toBe('too large');
    expect(bigBytesSent).toBeLessThan(20e6); // the server was stopped, not drained
    expect(reason('/big-declared')).toBe('too large');
    expect(reason('/binary')).toBe('content-type');
    expect(rows.get('/binary')!.content_type).toBe('application/octet-stream');
    expect(reason('/cut')).toBe('incomplete response');
    expect(reason('/reset')).toBe('connection error');
    expect(reason('/500')).toBe('http 500');
    expect(rows.get('/500')!.status).toBe(500);
    expect(reason('/to-file')).toBe('refused scheme');
    const d = run.stats.dropReasons;
    expect(d['refused scheme']).toBe(4); // ftp:, file: and mailto: links, the redirect to file:
    expect(d.redirect).toBe(4); // /redirect/0..2 and /loop/a were followed
    for (const r of ['timeout', 'too large']) expect(d[r]).toBe(2);
    expect(hostile.log.filter((p) => p === '/ok.html')).toHaveLength(1); // "ok.html#again" is the same URL
  });

  it('treats robots.txt by RFC 9309: 404 allows all, 5xx and timeouts disallow all (or allow, if configured)', async () => {
    const robotsSite = (robots: http.RequestListener) =>
      serveSite({ routes: { '/robots.txt': robots, '/a.html': page(links('/b.html')), '/b.html': page(html('b')) } });
    const cases: Array<[http.RequestListener, 'allow' | 'disallow', number]> = [
      [
        (_q, res) => {
          res.writeHead(404).end();
        },
        'disallow',
        2,
      ],
      [
        (_q, res) => {
          res.writeHead(503).end();
        },
        'disallow',
        0,
      ],
      [
        () => {
          /* hangs */
        },
        'disallow',
        0,
      ],
      [
        () => {
          /* hangs */
        },
        'allow',
        2,
      ],
    ];
    for (const [robots, robotsUnavailable, pages] of cases) {
      const s = await robotsSite(robots);
      const run = await runCrawl({ ...local, seeds: [`${s.origin}/a.html`], robotsTimeoutMs: 300, robotsUnavailable });
      expect(run.rows.filter((r) => r.error === null)).toHaveLength(pages);
      expect(s.log.filter((p) => p === '/robots.txt')).toHaveLength(1);
      if (pages === 0) expect(s.log).toEqual(['/robots.txt']);
      await s.close();
    }
  });

  it('honours Disallow and Crawl-delay of the group for its user agent', async () => {
    const pages: Record<string, http.RequestListener> = {};
    for (let i = 0; i < 6; i++)
      pages[`/d/${i}.html`] = page(links('/d/0.html', '/d/1.html', '/d/2.html', '/d/3.html', '/d/4.html', '/d/5.html'));
    const times: number[] = [];
    const robots =
      'User-agent: other\nDisallow: /\n\nUser-agent: flowlm-crawler\nDisallow: /d/5.html\nCrawl-delay: 0.25\n';
    const s = await serveSite({ routes: pages, robots });
    const run = await runCrawl({
      ...local,
      politeness: true,
      delayMs: 0,
      perHostConcurrency: 4,
      seeds: [`${s.origin}/d/0.html`],
    });
    await s.close();
    expect(run.rows.filter((r) => r.error === null)).toHaveLength(5);
    expect(run.rows.find((r) => r.url.endsWith('/d/5.html'))!.error).toMatch(/^robots/);
    expect(s.log).not.toContain('/d/5.html');
    for (const r of run.rows) if (r.fetched_at !== null) times.push(r.fetched_at);
    times.sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(240);
  });
});

/** A site of n pages that all link each other, each answered after `ms`; `gauge` counts open requests. */
function meshRoutes(
  prefix: string,
  n: number,
  ms: number,
  gauge = { open: 0, max: 0 },
): Record<string, http.RequestListener> {
  const all = Array.from({ length: n }, (_, i) => `${prefix}${i}.html`);
  const routes: Record<string, http.RequestListener> = {};
  for (const p of all) {
    routes[p] = (_q, res) => {
      gauge.max = Math.max(gauge.max, ++gauge.open);
      setTimeout(() => {
        gauge.open--;
        res.writeHead(200, { 'Content-Type': 'text/html' }).end(links(...all));
      }, ms);
    };
  }
  return routes;
}

describe('crawl: concurrency and backpressure', () => {
  it('keeps to its global and per-origin concurrency', async () => {
    const both = { open: 0, max: 0 };
    const a = await serveSite({ routes: meshRoutes('/m/', 30, 30, both), robots: '' });
    const b = await serveSite({ routes: meshRoutes('/m/', 30, 30, both), robots: '' });
    const links2 = [`${a.origin}/m/0.html`, `${b.origin}/m/0.html`];
    const run = await runCrawl({ ...local, seeds: links2, concurrency: 3, perHostConcurrency: 2 });
    await a.close();
    await b.close();
    expect(run.rows).toHaveLength(60);
    expect(a.maxActive).toBe(2);
    expect(b.maxActive).toBe(2);
    expect(both.max).toBe(3);
  });

  it('fetches ahead only up to its concurrency while the consumer does not pull', async () => {
    const s = await serveSite({ routes: meshRoutes('/m/', 200, 0), robots: '' });
    const it = crawl.def
      .make(
        crawl.def.config.parse({
          ...local,
          seeds: [`${s.origin}/m/0.html`],
          concurrency: 4,
          perHostConcurrency: 4,
          batchRows: 5,
        }),
        makeContext('crawl', { log: () => undefined }),
      )
      [Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value!.numRows).toBe(5);
    await new Promise((r) => setTimeout(r, 300));
    const ahead = s.log.filter((p) => p !== '/robots.txt').length;
    expect(ahead).toBeLessThanOrEqual(5 + 4); // the rows handed out plus at most `concurrency` in flight
    await it.return!(undefined);
    expect(s.log.filter((p) => p !== '/robots.txt').length).toBe(ahead); // stopping pulls stops fetching
    await s.close();
  });
});

describe('crawl: cancellation', () => {
  it('stops promptly on its abort signal, keeps unvisited URLs in its saved frontier, and resumes', async () => {
    const routes: Record<string, http.RequestListener> = {};
    const all = Array.from({ length: 12 }, (_, i) => `/c/${i}.html`);
    for (const p of all) routes[p] = page(links(...all));
    const s = await serveSite({ routes, robots: '' });
    const dir = mkdtempSync(join(tmpdir(), 'flowlm-crawl-cancel-'));
    const statePath = join(dir, 'state.json');
    const cfg = { ...local, politeness: true, delayMs: 100, seeds: [`${s.origin}/c/0.html`], statePath };
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 350);
      const first = await runCrawl(cfg, ac.signal);
      expect(first.ms).toBeLessThan(350 + 1000);
      expect(first.logs.some((l) => l.startsWith('crawl cancelled'))).toBe(true);
      expect((JSON.parse(readFileSync(statePath, 'utf8')) as { pending: unknown[] }).pending.length).toBeGreaterThan(0);
      const second = await runCrawl({ ...cfg, politeness: false });
      expect([...first.rows, ...second.rows].map((r) => new URL(r.url).pathname).sort()).toEqual([...all].sort());
      expect(s.log.filter((p) => p !== '/robots.txt').sort()).toEqual([...all].sort());
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('crawl: refusals', () => {
  it('refuses other schemes in its config', () => {
    expect(() => crawl({ seeds: ['file:///etc/passwd'] })).toThrow(/config\.seeds\.0: expected an absolute http/);
    expect(() => crawl({ seeds: ['ftp://127.0.0.1/'] })).toThrow(/seeds/);
  });

  it('refuses private, link-local and unlisted loopback addresses without connecting', async () => {
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    const port = new URL(hostile.origin).port;
    const seeds = [
      'http://10.1.2.3/',
      'http://169.254.169.254/latest/meta-data/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      `http://0.0.0.0:${port}/`,
      `http://[::1]:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
      `http://localhost:${port}/`,
    ];
    const run = await runCrawl({ ...local, seeds, allowAddresses: [] });
    expect(run.rows).toHaveLength(seeds.length);
    for (const r of run.rows) expect(r.error).toMatch(/^refused address: .*allowAddresses/);
    expect(connect).not.toHaveBeenCalled();
  });

  it("checks a redirect target's address before connecting to it", async () => {
    const s = await serveSite({
      routes: {
        '/go': (_q, res) => {
          res.writeHead(302, { Location: 'http://10.0.0.1/' }).end();
        },
      },
    });
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    const run = await runCrawl({ ...local, seeds: [`${s.origin}/go`], allowedHosts: ['127.0.0.1', '10.0.0.1'] });
    await s.close();
    expect(run.rows.map((r) => [r.url, r.error?.split(':')[0]])).toEqual([['http://10.0.0.1/', 'refused address']]);
    const hosts = connect.mock.calls.map((c) => (c[0] as unknown as [{ host?: string }])[0]?.host);
    expect(hosts.length).toBeGreaterThan(0);
    expect(hosts.every((h) => h === '127.0.0.1')).toBe(true);
  });
});
