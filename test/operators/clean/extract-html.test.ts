// extract-html on real pages: Debian's PostgreSQL manual (main paragraphs in, DocBook navigation
// out) and SpamAssassin HTML mail (where Readability finds no article and the fallback takes over).
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { extractHtml, extractMainText } from '../../../operators/clean/extract-html.ts';
import { domText, type DomNode } from '../../../operators/clean/html/dom-text.ts';
import { emails, pgPages, runOp, textBatch } from './real-data.ts';

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
const cfg = (over: Partial<Parameters<typeof extractMainText>[1]> = {}) =>
  extractHtml.def.config.parse(over) as Parameters<typeof extractMainText>[1];

interface QueryDoc {
  querySelectorAll(sel: string): ArrayLike<DomNode & { textContent: string; closest(sel: string): unknown }>;
}

/** What the page says is its content and its navigation, read from the DOM independently. */
function expected(html: string) {
  const doc = parseHTML(html).document as unknown as QueryDoc;
  const paragraphs = Array.from(doc.querySelectorAll('p'))
    .filter((p) => !p.closest('.navheader, .navfooter'))
    .map((p) => squash(p.textContent))
    .filter((t) => t.length >= 80);
  const nav = Array.from(doc.querySelectorAll('.navheader, .navfooter')).map((n) => squash(domText(n)));
  return { paragraphs, nav };
}

const seen = new Map<string, ReturnType<typeof expected>>();
/** expected() once per page for the three modes (a DOM parse each) */
const expectedOf = (page: { name: string; html: string }) => {
  if (!seen.has(page.name)) seen.set(page.name, expected(page.html));
  return seen.get(page.name)!;
};

// every 5th page of the manual (234 pages: chapters, reference pages, release notes, tutorials)
const sample = pgPages().filter((_, i) => i % 5 === 0);

describe('clean/extract-html on the PostgreSQL manual', () => {
  for (const mode of ['fast', 'readability', 'body'] as const) {
    it(`${mode}: keeps the real paragraphs and leaves the navigation out`, () => {
      let total = 0,
        found = 0,
        pagesWithNav = 0;
      for (const page of sample) {
        const x = extractMainText(page.html, cfg({ mode }));
        if ('drop' in x) throw new Error(`${page.name} dropped: ${x.drop}`);
        const text = squash(x.text);
        const e = expectedOf(page);
        total += e.paragraphs.length;
        found += e.paragraphs.filter((p) => text.includes(p)).length;
        for (const nav of e.nav) {
          pagesWithNav++;
          expect(text, `${page.name}: navigation "${nav}" leaked`).not.toContain(nav);
        }
        expect(x.text, page.name).not.toMatch(/^(Prev|Next|Up|Home)$/m);
      }
      expect(total).toBeGreaterThan(2000);
      expect(pagesWithNav).toBeGreaterThan(400);
      // measured: 0.97 with Readability (and the coverage fallback), 1.0 with the body fallback alone
      // and with the fast extractor
      expect(found / total).toBeGreaterThanOrEqual(0.95);
    });
  }

  it('keeps paragraph breaks and code blocks as lines', () => {
    const [page] = pgPages(['tutorial-join.html']);
    const x = extractMainText(page!.html, cfg());
    if ('drop' in x) throw new Error(x.drop);
    expect(x.text).toContain('\n\n');
    // the query result table of the tutorial stays one row per line
    const rows = x.text.split('\n').filter((l) => /^ San Francisco \|/.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(2);
  });

  it('adds the title as a column or as the first paragraph', async () => {
    const pages = pgPages(['sql-select.html', 'tutorial-join.html']);
    const titles = pages.map((p) => /<title>([^<]*)<\/title>/.exec(p.html)![1]!);
    const col = await runOp(extractHtml, { title: 'column' }, [textBatch(pages.map((p) => p.html))]);
    expect(col.rows.map((r) => r.title)).toEqual(titles);
    const pre = await runOp(extractHtml, { title: 'prepend' }, [textBatch(pages.map((p) => p.html))]);
    pre.rows.forEach((r, i) => expect((r.text as string).startsWith(`${titles[i]}\n\n`)).toBe(true));
    expect(pre.batches[0]!.schema.names).not.toContain('title');
  });
});

describe('clean/extract-html fallback and drops', () => {
  it('falls back to the body text when Readability finds no article (real spam HTML)', async () => {
    // SpamAssassin spam-1/00059: a bare <HTML><P><FONT> page, no article structure at all
    const mail = emails('spam-1').find((e) => e.name.startsWith('00059.'))!;
    const html = mail.text.slice(mail.text.search(/<html/i));
    const { rows, stats } = await runOp(extractHtml, { mode: 'readability' }, [textBatch([html])]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.text).toContain('Do you have too much debt?');
    expect(rows[0]!.text).toContain('Would you like to lower your monthly payments');
    expect(stats.counters?.['extract.fallback']).toBe(1);
    // the fast extractor has no fallback: the same text, nothing counted
    const fast = await runOp(extractHtml, {}, [textBatch([html])]);
    expect(fast.rows[0]!.text).toBe(rows[0]!.text);
    expect(fast.stats.counters?.['extract.fallback']).toBeUndefined();
  });

  it('counts unusable rows by reason instead of failing, and keeps the good ones in order', async () => {
    const [good] = pgPages(['tutorial-join.html']);
    const binary = '<' + String.fromCharCode(...Array.from({ length: 300 }, (_, i) => (i * 37) % 256));
    const deep = '<div>'.repeat(120_000) + 'text';
    const texts = [
      good!.html,
      '<not really html',
      'plain text with no markup',
      binary,
      '<html><body></body></html>',
      deep,
      '<html><body><p>Hi.</p></body></html>',
      good!.html,
    ];
    const { rows, stats } = await runOp(extractHtml, { minChars: 10, mode: 'readability' }, [textBatch(texts)]);
    expect(rows.map((r) => r.n)).toEqual(['0', '7']);
    expect(stats.dropReasons).toEqual({
      'extract.parse_error': 1,
      'extract.not_html': 1,
      'extract.binary': 1,
      'extract.empty': 1,
      'extract.too_many_elements': 1,
      'extract.too_short': 1,
    });
    expect(stats.rowsIn - stats.rowsOut).toBe(stats.dropped);
    // fast mode needs no tag limit (it is linear): the deep page is read, its 4 characters too short
    const fast = await runOp(extractHtml, { minChars: 10 }, [textBatch(texts)]);
    expect(fast.rows.map((r) => r.n)).toEqual(['0', '7']);
    expect(fast.stats.dropReasons).toEqual({
      'extract.parse_error': 1,
      'extract.not_html': 1,
      'extract.binary': 1,
      'extract.empty': 1,
      'extract.too_short': 2,
    });
    expect(fast.stats.counters?.['extract.depth_capped']).toBe(1);
    const body = await runOp(extractHtml, { minChars: 10, mode: 'body' }, [textBatch(texts)]);
    expect(fast.rows.map((r) => squash(r.text as string))).toEqual(body.rows.map((r) => squash(r.text as string)));
  });

  it("minCoverage: Readability's article (a table it elected alone) is kept or replaced by the body text", () => {
    // datatype.html: Readability keeps only the table of types, not the prose around it
    const [page] = pgPages(['datatype.html']);
    const trust = extractMainText(page!.html, cfg({ mode: 'readability', minCoverage: 0 }));
    const cover = extractMainText(page!.html, cfg({ mode: 'readability', minCoverage: 1 }));
    const body = extractMainText(page!.html, cfg({ mode: 'body' }));
    if ('drop' in trust || 'drop' in cover || 'drop' in body) throw new Error('dropped');
    expect(trust.via).toBe('readability');
    expect(trust.text.length).toBeLessThan(body.text.length);
    expect(cover).toEqual(body);
  });

  it('passes text without markup through when told to', async () => {
    const { rows } = await runOp(extractHtml, { nonHtml: 'keep' }, [textBatch(['  plain text with no markup '])]);
    expect(rows[0]!.text).toBe('plain text with no markup');
  });

  it('takes the fallback quickly on deeply nested markup Readability would crawl through', () => {
    const t0 = performance.now();
    const html = '<html><body>' + '<div>'.repeat(20_000) + 'deep text</body></html>';
    const x = extractMainText(html, cfg({ mode: 'readability' }));
    expect(x).toEqual({ text: 'deep text', title: null, lang: null, via: 'body' });
    // Readability itself takes over a minute here; generous bound for a loaded machine
    expect(performance.now() - t0).toBeLessThan(15_000);
  });
});
