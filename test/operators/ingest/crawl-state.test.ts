// The crawl state on disk: pending entries in JSON, the seen set's bytes in a side file the JSON names
// with its length and sha256. A crawl whose seen set became a Bloom filter resumes with the same
// answers (every URL it met still known, the filter bit for bit); saves alternate between two side
// files so the pair on disk always matches; a truncated, damaged or missing side file is reported
// and left as it is; version 1 and 2 files (seen as URLs, as base64) still resume.
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crawl } from '../../../operators/ingest/crawl.ts';
import { Frontier } from '../../../operators/ingest/crawl/frontier.ts';
import { SeenSet } from '../../../operators/ingest/crawl/seen-set.ts';
import { StateFile } from '../../../operators/ingest/crawl/state-file.ts';
import { OperatorStats } from '../../../src/core/stats.ts';
import { runCrawl } from '../../fixtures/run-crawl.ts';
import { serveSite, type StaticSite } from '../../fixtures/static-site.ts';

const PG = '/usr/share/doc/postgresql-doc-15/html';
const MiB = 2 ** 20;
const LINKS = 1000;

let site: StaticSite;
let o: string;
let dir: string;
let manual: string[];

beforeAll(async () => {
  manual = readdirSync(PG)
    .filter((f) => f.endsWith('.html'))
    .sort()
    .slice(0, 20)
    .map((f) => readFileSync(join(PG, f), 'utf8').replace(/<a\b[^>]*>|<\/a>/gi, ''));
  // a manual page that links LINKS pages never seen before
  const gen: http.RequestListener = (q, res) => {
    const id = q.url!.slice('/gen/'.length);
    const links = Array.from({ length: LINKS }, (_, j) => `<a href="/gen/${id}-${j}">x</a>`).join('');
    res
      .writeHead(200, { 'Content-Type': 'text/html' })
      .end(manual[id.length % manual.length]!.replace('</body>', `${links}</body>`));
  };
  site = await serveSite({ routes: { '/gen/*': gen } });
  o = site.origin;
  dir = mkdtempSync(join(tmpdir(), 'flowlm-crawl-state-'));
});
afterAll(async () => {
  await site.close();
  rmSync(dir, { recursive: true, force: true });
});

const local = { allowAddresses: ['127.0.0.1'], politeness: false, concurrency: 1, perHostConcurrency: 1 };
const url = (i: number, salt: string) => `https://docs.example.org/${salt}/page-${i}.html`;
const known = (f: Frontier, urls: string[]) => urls.map((u) => f.known(u));
const resumed = async (path: string, bound = MiB) => {
  const f = new Frontier((u) => new URL(u).origin, new SeenSet(bound, 1e-6));
  const s = await new StateFile(path).load();
  f.restore(s!);
  return f;
};
const json = (path: string) =>
  JSON.parse(readFileSync(path, 'utf8')) as { version: number; pending: unknown[]; seen: Record<string, unknown> };

describe('crawl state: the seen set in a side file', () => {
  it('resumes a crawl whose seen set became a Bloom filter with the same answers, fetching nothing twice', async () => {
    const statePath = join(dir, 'crawl', 'state.json');
    const cfg = { ...local, seeds: [`${o}/gen/0`], seenMemoryMB: 1, statePath, stateEveryPages: 5 };
    site.log.length = 0;
    const first = await runCrawl({ ...cfg, maxPages: 20 });
    expect(first.rows).toHaveLength(20);
    expect(first.logs.some((l) => l.includes('(bound 1.00 MB, bloom)'))).toBe(true);
    const s = json(statePath);
    expect(s.version).toBe(3);
    expect(s.seen.mode).toBe('bloom');
    expect(s.seen).not.toHaveProperty('data');
    const side = join(dir, 'crawl', s.seen.file as string);
    expect(statSync(side).size).toBe(s.seen.bytes);
    expect(s.seen.bytes).toBe((3 * MiB) / 4); // the filter: three quarters of the bound
    // the JSON holds the pending entries and a few fields more, no encoded filter
    expect(readFileSync(statePath).length).toBeLessThan(JSON.stringify(s.pending).length + 1000);
    // 4 saves (every 5 pages) and the last one at the end: two side files in turn, no temporary file left
    expect(readdirSync(join(dir, 'crawl')).sort()).toEqual([
      'state.json',
      'state.json.seen-a.bin',
      'state.json.seen-b.bin',
    ]);

    // every URL the crawl met is known after resume: each page fetched and its LINKS links
    const met = first.rows.flatMap((r) => [r.url, ...Array.from({ length: LINKS }, (_, j) => `${r.url}-${j}`)]);
    const f = await resumed(statePath);
    expect(f.seen.info().mode).toBe('bloom');
    expect(f.seen.size).toBe(s.seen.n);
    expect(known(f, met).every(Boolean)).toBe(true);
    expect(f.pending).toBe(s.pending.length);
    // and a URL never met is not, but at the filter's rate (20,000 URLs in 768 KiB: ~1e-17)
    expect(
      known(
        f,
        Array.from({ length: 20_000 }, (_, i) => `${o}/never/${i}`),
      ).some(Boolean),
    ).toBe(false);

    // the crawl itself resumes: it says how many URLs it knows, and fetches none of the first run's pages
    const before = new Set(site.log);
    const second = await runCrawl({ ...cfg, maxPages: 10 });
    expect(second.logs).toContain(`resumed ${statePath}: ${s.pending.length} pending, ${s.seen.n} seen`);
    expect(second.rows).toHaveLength(10);
    for (const r of second.rows) expect(before.has(r.url.slice(o.length))).toBe(false);
    const pages = site.log.filter((l) => l.startsWith('/gen/')); // robots.txt is asked for once a run
    expect(pages).toHaveLength(30);
    expect(new Set(pages).size).toBe(30);
  });

  it('gives bit-identical answers after each save, alternating side files so the pair on disk matches', async () => {
    const path = join(dir, 'unit', 'state.json');
    const f = new Frontier((u) => new URL(u).origin, new SeenSet(MiB, 1e-6));
    const file = new StateFile(path);
    expect(await file.load()).toBeUndefined();
    const probe = [
      ...Array.from({ length: 40_000 }, (_, i) => url(i, 'a')),
      ...Array.from({ length: 40_000 }, (_, i) => url(i, 'z')),
    ];
    for (let i = 0; i < 5_000; i++) f.claim(url(i, 'a'));
    await file.save(f.state([]));
    expect(json(path).seen).toMatchObject({ mode: 'exact', file: 'state.json.seen-a.bin', n: 5_000 });
    expect(known(await resumed(path), probe)).toEqual(known(f, probe));
    for (let i = 5_000; i < 40_000; i++) f.claim(url(i, 'a')); // past 16,384: a Bloom filter
    expect(f.seen.info().mode).toBe('bloom');
    await file.save(f.state([]));
    expect(json(path).seen).toMatchObject({ mode: 'bloom', file: 'state.json.seen-b.bin' });
    const g = await resumed(path);
    expect(g.seen.info()).toEqual(f.seen.info());
    expect(known(g, probe)).toEqual(known(f, probe));
    // the next save replaces the side file the JSON on disk does not name
    await file.save(f.state([]));
    expect(json(path).seen.file).toBe('state.json.seen-a.bin');
  });

  it('reports a truncated, damaged or missing side file clearly and leaves the state as it was', async () => {
    const path = join(dir, 'torn', 'state.json');
    const f = new Frontier((u) => new URL(u).origin, new SeenSet(MiB, 1e-6));
    for (let i = 0; i < 20_000; i++) f.claim(url(i, 'a'));
    await new StateFile(path).save(f.state([]));
    const side = `${path}.seen-a.bin`;
    const whole = readFileSync(side);
    truncateSync(side, whole.length - 4096);
    const torn = readFileSync(side);
    const jsonBefore = readFileSync(path);
    // the crawl fails before fetching anything, says what and where, and writes nothing over the pair
    const logs: string[] = [];
    site.log.length = 0;
    const error = await new Promise<unknown>((resolve) => {
      crawl(
        { ...local, seeds: [`${o}/gen/t`], statePath: path },
        { stats: new OperatorStats('crawl'), log: (m) => logs.push(m) },
      ).subscribe({ error: resolve, complete: () => resolve(undefined) });
    });
    const said = `crawl state ${path}: its seen set ${side} is ${whole.length - 4096} bytes, the state says ${whole.length} (truncated)`;
    expect(String(error)).toContain(said);
    expect(String(error)).toContain('to start afresh, or point statePath elsewhere');
    expect(logs.some((l) => l.startsWith('crawl failed with a fatal error: ') && l.includes(said))).toBe(true);
    expect(site.log).toEqual([]);
    expect(readFileSync(path).equals(jsonBefore)).toBe(true);
    expect(readFileSync(side).equals(torn)).toBe(true);
    // same length, one bit changed
    const flipped = Buffer.from(whole);
    flipped[1000]! ^= 1;
    writeFileSync(side, flipped);
    await expect(new StateFile(path).load()).rejects.toThrow(/does not have the sha256 the state names/);
    rmSync(side);
    await expect(new StateFile(path).load()).rejects.toThrow(`its seen set ${side} is missing`);
    expect(existsSync(path)).toBe(true);
  });

  it('still resumes version 1 (seen URLs listed) and version 2 (seen words as base64) files', async () => {
    const f = new Frontier((u) => new URL(u).origin, new SeenSet(MiB, 1e-6));
    const urls = Array.from({ length: 30_000 }, (_, i) => url(i, 'a'));
    for (const u of urls) f.claim(u);
    const probe = [...urls, ...Array.from({ length: 30_000 }, (_, i) => url(i, 'z'))];
    const pending = [{ url: url(1, 'p'), depth: 1, referrer: urls[0]! }];
    const { mode, n, p, words } = f.seen.snapshot();
    expect(mode).toBe('bloom');
    // version 2 as the previous crawler wrote it
    const v2 = join(dir, 'v2.json');
    const data = Buffer.from(words.buffer, words.byteOffset, words.byteLength).toString('base64');
    writeFileSync(v2, JSON.stringify({ version: 2, pending, seen: { mode, data, n, p } }));
    const g = await resumed(v2);
    expect(known(g, probe)).toEqual(known(f, probe));
    expect(g.pending).toBe(1);
    expect(g.known(url(1, 'p'))).toBe(true);
    // version 1: the URLs themselves
    const v1 = join(dir, 'v1.json');
    writeFileSync(v1, JSON.stringify({ version: 1, pending, seen: urls.slice(0, 100) }));
    const h = await resumed(v1);
    expect(known(h, urls.slice(0, 200))).toEqual([...Array(100).fill(true), ...Array(100).fill(false)]);
    expect(h.known(url(1, 'p'))).toBe(true);
    // and a later save of a resumed old state is version 3
    const later = new StateFile(v2);
    await later.load();
    await later.save(g.state([]));
    expect(json(v2).version).toBe(3);
    expect(known(await resumed(v2), probe)).toEqual(known(f, probe));
  });
});
