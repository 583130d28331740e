// The crawler against real HTML: Debian's PostgreSQL 15 manual (whole) and two subtrees of the Linux
// 6.1 documentation, served on 127.0.0.1 with a robots.txt that disallows a subtree of each. The
// expected outcome comes from an independent walk over the files (test/fixtures/site-graph.ts); the
// server's request log proves what was fetched. Needs apt packages postgresql-doc-15 and linux-doc-6.1.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WARCParser } from 'warcio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveSite, type StaticSite } from '../../fixtures/static-site.ts';
import { fileFor, walkSite, type SiteGraph } from '../../fixtures/site-graph.ts';
import { runCrawl } from '../../fixtures/run-crawl.ts';

const PG = '/usr/share/doc/postgresql-doc-15/html';
const LINUX = '/usr/share/doc/linux-doc-6.1/html';
const mounts = { '/pg/': PG, '/linux/': LINUX };
const DISALLOW = ['/pg/sql-', '/linux/filesystems/nfs/'];
const robots = `User-agent: *\n${DISALLOW.map((d) => `Disallow: ${d}`).join('\n')}\n`;

let site: StaticSite;
let o: string;
let dir: string;
let seeds: string[];
let scope: string[];
/** ground truth for the whole crawl (seeds and scope above), computed once: a DOM walk costs seconds */
let g: SiteGraph;
const pageRequests = () => site.log.filter((p) => p !== '/robots.txt');
const base = () => ({
  allowAddresses: ['127.0.0.1'],
  politeness: false,
  concurrency: 8,
  perHostConcurrency: 8,
  maxDepth: 100,
});
const linuxCfg = () => ({
  ...base(),
  seeds: [`${o}/linux/bpf/index.html`, `${o}/linux/filesystems/index.html`],
  scope: [`${o}/linux/bpf/`, `${o}/linux/filesystems/`],
});

beforeAll(async () => {
  site = await serveSite({ mounts, robots });
  o = site.origin;
  dir = mkdtempSync(join(tmpdir(), 'flowlm-crawl-'));
  seeds = [`${o}/pg/index.html`, `${o}/linux/bpf/index.html`, `${o}/linux/filesystems/index.html`];
  scope = [`${o}/pg/`, `${o}/linux/bpf/`, `${o}/linux/filesystems/`];
  g = walkSite({ seeds, scope, disallow: DISALLOW, mounts });
});
afterAll(async () => {
  await site.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('crawl: Debian HTML documentation on loopback', () => {
  it('fetches every allowed reachable page exactly once, nothing disallowed, and reports the real broken links', async () => {
    expect(g.pages.size).toBeGreaterThan(1000); // the whole manual is reachable from its index
    expect(g.disallowed.size).toBeGreaterThan(100);
    expect(g.missing.size).toBeGreaterThan(0);

    site.log.length = 0;
    const run = await runCrawl({ ...base(), seeds, scope, emitErrors: true });
    const pages = run.rows.filter((r) => r.error === null);
    const failed = run.rows.filter((r) => r.error !== null);

    // every allowed reachable page, once, with its own file as text; nothing else
    expect(new Set(pages.map((r) => r.url))).toEqual(new Set(g.pages.keys()));
    expect(pages.length).toBe(g.pages.size);
    for (const r of pages.filter((_, i) => i % 50 === 0))
      expect(r.text).toBe(readFileSync(fileFor(new URL(r.url), mounts)!, 'utf8'));
    for (const r of pages) {
      expect(r.status).toBe(200);
      expect(r.depth).toBeGreaterThanOrEqual(g.pages.get(r.url)!);
      expect(r.content_type).toBe('text/html');
    }
    expect(new Set(pages.map((r) => r.id)).size).toBe(pages.length);

    // the server saw each URL at most once, robots.txt once, and nothing under a disallowed prefix
    const reqs = pageRequests();
    expect(new Set(reqs).size).toBe(reqs.length);
    expect(site.log.filter((p) => p === '/robots.txt')).toHaveLength(1);
    expect(reqs.filter((p) => DISALLOW.some((d) => p.startsWith(d)))).toEqual([]);
    expect(reqs.length).toBe(g.pages.size + g.missing.size + g.other.size);

    // real broken links of the Linux docs (e.g. bpf/btf.rst), each a 404 row naming a page that links it
    const broken = failed.filter((r) => r.status === 404);
    expect(new Set(broken.map((r) => r.url))).toEqual(new Set(g.missing.keys()));
    expect(broken.map((r) => r.url)).toContain(`${o}/linux/bpf/btf.rst`);
    for (const r of broken) expect(r.error).toMatch(/^http 404/);
    expect(run.stats.dropReasons['http 404']).toBe(g.missing.size);
    expect(run.stats.dropReasons.robots).toBe(g.disallowed.size);
    expect(failed.filter((r) => r.error!.startsWith('robots'))).toHaveLength(g.disallowed.size);
    const report = run.logs.find((l) => l.includes('broken links'))!;
    expect(report).toContain(`404 ${o}/linux/bpf/btf.rst <- ${o}/linux/bpf/bpf_devel_QA.html`);
    expect(run.logs.some((l) => l.startsWith('crawl complete'))).toBe(true);
  });

  // Limit runs abort requests in flight; a server of their own keeps them out of the other tests' logs.
  const ownSite = async <T>(fn: (s: StaticSite) => Promise<T>): Promise<T> => {
    const s = await serveSite({ mounts, robots });
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  };
  const pagesOf = (s: StaticSite) => s.log.filter((p) => p !== '/robots.txt');

  it('stays within a page limit', () =>
    ownSite(async (s) => {
      const run = await runCrawl({ ...base(), seeds: [`${s.origin}/pg/index.html`], maxPages: 40 });
      expect(pagesOf(s)).toHaveLength(40);
      expect(run.rows.length).toBeLessThanOrEqual(40);
      expect(run.rows.length).toBeGreaterThan(30);
      expect(run.logs.some((l) => l.startsWith('crawl page limit'))).toBe(true);
    }));

  it('stays within a byte limit', () =>
    ownSite(async (s) => {
      const maxBytes = 300_000;
      const run = await runCrawl({ ...base(), seeds: [`${s.origin}/pg/index.html`], maxBytes });
      const bytes = run.rows.reduce((n, r) => n + Buffer.byteLength(r.text), 0);
      expect(bytes).toBeLessThanOrEqual(maxBytes);
      expect(bytes).toBeGreaterThan(maxBytes / 3);
      expect(pagesOf(s).length).toBeLessThan(200);
      expect(run.logs.some((l) => l.startsWith('crawl byte limit'))).toBe(true);
    }));

  it('stays within a time limit (polite crawl, 100 ms between requests)', () =>
    ownSite(async (s) => {
      const run = await runCrawl({
        ...base(),
        politeness: true,
        delayMs: 100,
        seeds: [`${s.origin}/pg/index.html`],
        maxTimeMs: 800,
      });
      expect(run.ms).toBeLessThan(800 + 1500); // slack for a loaded machine; an unbounded crawl takes far longer
      expect(pagesOf(s).length).toBeLessThanOrEqual(9); // one request per 100 ms
      expect(run.rows.length).toBeGreaterThan(1);
      expect(run.logs.some((l) => l.startsWith('crawl time limit'))).toBe(true);
    }));

  it('saves its frontier and resumes: the union is the full crawl and no page is fetched twice', async () => {
    const statePath = join(dir, 'frontier.json');
    const linuxPages = [...g.pages.keys()].filter((u) => u.startsWith(`${o}/linux/`)); // the pg and linux trees do not link each other
    site.log.length = 0;
    const first = await runCrawl({ ...linuxCfg(), maxPages: 40, statePath, emitErrors: true });
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { pending: unknown[]; seen: unknown[] };
    expect(state.pending.length).toBeGreaterThan(0);
    const second = await runCrawl({ ...linuxCfg(), statePath, emitErrors: true });
    const urls = [...first.rows, ...second.rows].filter((r) => r.error === null).map((r) => r.url);
    expect(first.rows.length).toBeGreaterThan(0);
    expect(second.rows.length).toBeGreaterThan(0);
    expect(new Set(urls)).toEqual(new Set(linuxPages));
    expect(urls).toHaveLength(linuxPages.length);
    const reqs = pageRequests();
    expect(new Set(reqs).size).toBe(reqs.length);
    expect(second.logs.some((l) => l.startsWith(`resumed ${statePath}`))).toBe(true);
    // a finished crawl resumes to nothing
    site.log.length = 0;
    const third = await runCrawl({ ...linuxCfg(), statePath });
    expect(third.rows).toHaveLength(0);
    expect(pageRequests()).toHaveLength(0);
    expect(readdirSync(dir).filter((f) => f.startsWith('.flowlm-tmp'))).toEqual([]);
  });

  it('writes what it fetched to a WARC file that warcio reads back', async () => {
    const warcPath = join(dir, 'crawl.warc.gz');
    site.log.length = 0;
    const run = await runCrawl({
      ...linuxCfg(),
      scope: [`${o}/linux/bpf/`],
      seeds: [`${o}/linux/bpf/index.html`],
      warcPath,
      emitErrors: true,
    });
    expect(existsSync(warcPath)).toBe(true);
    const responses = new Map<string, { status: number; body: string }>();
    let requests = 0;
    for await (const rec of new WARCParser(createReadStream(warcPath))) {
      if (rec.warcType === 'request') requests++;
      if (rec.warcType !== 'response') continue;
      const status = Number(rec.httpHeaders?.statusCode);
      responses.set(rec.warcTargetURI!, { status, body: await rec.contentText() });
    }
    expect(requests).toBe(site.log.length); // robots.txt included
    expect(responses.size).toBe(site.log.length);
    for (const r of run.rows) {
      const rec = responses.get(r.url)!;
      expect(rec.status).toBe(r.status);
      if (r.error === null) expect(rec.body).toBe(r.text);
    }
    expect(responses.get(`${o}/robots.txt`)?.body).toBe(robots);
  });
});
