// The crawl-clean pipeline end to end, as a user runs it: `flowlm run pipelines/crawl-clean.ts` against
// a loopback server of Debian's real PostgreSQL HTML manual, writing Parquet that an independent reader
// (hyparquet) opens.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveSite, type StaticSite } from '../fixtures/static-site.ts';
import { start } from '../cli/spawn.ts';

const DOCS = '/usr/share/doc/postgresql-doc-15/html';
let site: StaticSite;
let dir: string;

beforeAll(async () => {
  site = await serveSite({ mounts: { '/': DOCS }, robots: 'User-agent: *\nDisallow: /sql-\n' });
  dir = mkdtempSync(join(tmpdir(), 'flowlm-crawl-clean-'));
});
afterAll(async () => {
  await site.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('pipelines/crawl-clean.ts', () => {
  it('crawls, cleans, dedups and writes Parquet that hyparquet reads', async () => {
    const out = join(dir, 'docs.parquet');
    const r = await start([
      'run',
      'pipelines/crawl-clean.ts',
      '--json',
      '--progress',
      'plain',
      '--set',
      `crawl.seeds=["${site.origin}/index.html"]`,
      '--set',
      'crawl.maxPages=150',
      '--set',
      `write.path=${out}`,
    ]).done;
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      ok: boolean;
      nodes: Record<string, { rowsIn: number; rowsOut: number; dropped: number; dropReasons?: Record<string, number> }>;
    };
    expect(summary.ok).toBe(true);
    const n = summary.nodes;
    // robots.txt was honoured: no /sql-* page reached the server
    expect(site.log.filter((p) => p.startsWith('/sql-'))).toEqual([]);
    expect(n.crawl!.rowsOut).toBeGreaterThan(50);
    expect(n.crawl!.rowsOut).toBeLessThanOrEqual(150);
    // every stage saw what the previous one let through
    const order = ['crawl', 'extract', 'normalize', 'quality', 'language', 'pii', 'exact', 'minhash', 'write'];
    for (let i = 1; i < order.length; i++) expect(n[order[i]!]!.rowsIn).toBe(n[order[i - 1]!]!.rowsOut);
    expect(n.quality!.dropped).toBeGreaterThan(0); // reference pages (tables, lists) fail some rules
    const rows = (await parquetReadObjects({ file: toArrayBuffer(readFileSync(out)) })) as Array<{
      id: string;
      text: string;
      url: string;
      lang: string;
    }>;
    expect(rows.length).toBe(n.write!.rowsIn);
    expect(rows.length).toBeGreaterThan(10);
    expect(new Set(rows.map((x) => x.id)).size).toBe(rows.length);
    expect(rows.every((x) => x.lang === 'en' && x.url.startsWith(site.origin) && x.text.length > 0)).toBe(true);
    // extracted main text, not markup
    expect(rows.some((x) => /PostgreSQL/.test(x.text))).toBe(true);
    expect(rows.every((x) => !/<(div|p|a) /.test(x.text))).toBe(true);
  });
});

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
