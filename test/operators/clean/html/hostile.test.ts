// Hostile HTML: bounded in time and memory, reported (a counted drop reason or counter), never a
// crash. Deep nesting (the scanner keeps an explicit stack capped at maxDepth, no recursion), 50 MB
// pages (linear: the text of a page repeated is the page's text repeated), broken markup
// (unterminated comments, tags, attributes, raw text), binary junk, and random damage to a real page.
import { describe, expect, it } from 'vitest';
import { extractHtml, extractMainText } from '../../../../operators/clean/extract-html.ts';
import { fastExtract } from '../../../../operators/clean/html/fast-extract.ts';
import { NAMES } from '../../../../operators/clean/html/tags.ts';
import { pgPages, runOp, textBatch } from '../real-data.ts';

type Cfg = Parameters<typeof extractMainText>[1];
const cfg = (over: Record<string, unknown> = {}) => extractHtml.def.config.parse(over) as Cfg;
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
const [page] = pgPages(['tutorial-join.html']);
const html = page!.html;
const text = fastExtract(html, { maxDepth: 256, linkDensity: 0.5 }).text;

/** A deterministic generator (mulberry32): the same damage on every run. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('deep nesting', () => {
  const N = 100_000;
  it.each([
    ['div', `${'<div>'.repeat(N)}deep text${'</div>'.repeat(N)}`],
    ['unclosed div', `${'<div>'.repeat(N)}deep text`],
    ['inline b', `${'<b>'.repeat(N)}deep text${'</b>'.repeat(N)}`],
    ['table', `${'<table><tr><td>'.repeat(N / 4)}deep text`],
    ['span then stray ends', `${'<span>'.repeat(N)}deep text${'</i>'.repeat(N)}`],
  ])('100k nested %s: the text, the cap counted', async (_, deep) => {
    const { rows, stats } = await runOp(extractHtml, {}, [textBatch([`<html><body>${deep}</body></html>`])]);
    expect(squash(rows[0]!.text as string)).toBe('deep text');
    expect(stats.counters?.['extract.depth_capped']).toBe(1);
  });

  it('implied ends keep the stack flat: 100k unclosed <p> and <li> are 100k paragraphs and lines', () => {
    const p = fastExtract(`${'<p>x'.repeat(N)}`, { maxDepth: 256, linkDensity: 0.5 });
    expect(p.depthCapped).toBe(false);
    expect(p.text).toBe(Array(N).fill('x').join('\n\n'));
    const li = fastExtract(`<ul>${'<li>x'.repeat(N)}</ul>`, { maxDepth: 256, linkDensity: 0.5 });
    expect(li.text).toBe(Array(N).fill('x').join('\n'));
  });

  it('maxDepth: a real page deeper than the cap is counted, and its text still kept', async () => {
    const capped = await runOp(extractHtml, { maxDepth: 4 }, [textBatch([html])]);
    const full = await runOp(extractHtml, {}, [textBatch([html])]);
    expect(capped.stats.counters?.['extract.depth_capped']).toBe(1);
    expect(full.stats.counters?.['extract.depth_capped']).toBeUndefined();
    expect(squash(capped.rows[0]!.text as string)).toContain(squash(text).slice(200, 400));
  });
});

describe('invented tags', () => {
  // (before the flood below fills the table)
  it('2,000 distinct 1,000-character tag names: read, and not kept (memory does not grow with them)', () => {
    const before = NAMES.length;
    expect(before).toBeLessThan(1000);
    const long = Array.from({ length: 2000 }, (_, i) => `<${'z'.repeat(1000)}${i}>w</${'z'.repeat(1000)}${i}>`);
    expect(fastExtract(long.join(''), { maxDepth: 256, linkDensity: 0.5 }).text).toBe('w'.repeat(2000));
    expect(NAMES.length).toBe(before);
  });

  it('10k distinct tag names (past the interning table) change nothing for the pages after them', () => {
    const invented = Array.from({ length: 10_000 }, (_, i) => `<x-t${i}>w${i}</x-t${i}>`).join('');
    const x = fastExtract(`<p>${invented}</p>`, { maxDepth: 256, linkDensity: 0.5 });
    expect(x.text).toBe(Array.from({ length: 10_000 }, (_, i) => `w${i}`).join(''));
    expect(fastExtract(html, { maxDepth: 256, linkDensity: 0.5 }).text).toBe(text);
    // a block element no page here has used before the flood still breaks lines
    expect(fastExtract('<center>a</center><center>b</center>', { maxDepth: 256, linkDensity: 0.5 }).text).toBe(
      'a\n\nb',
    );
    const nested = `${Array.from({ length: 300 }, (_, i) => `<y-${i}>`).join('')}deep</y-5>after`;
    expect(fastExtract(nested, { maxDepth: 256, linkDensity: 0.5 }).text).toBe('deepafter');
  });
});

describe('50 MB pages', () => {
  const copies = Math.ceil(50e6 / html.length);
  const big = html.repeat(copies);
  it('are dropped unparsed by maxChars (counted), or read in one linear pass when allowed', async () => {
    expect(big.length).toBeGreaterThan(50e6);
    const { stats } = await runOp(extractHtml, {}, [textBatch([big])]);
    expect(stats.dropReasons).toEqual({ 'extract.too_large': 1 });
    const x = extractMainText(big, cfg({ maxChars: 60_000_000 }));
    if ('drop' in x) throw new Error(x.drop);
    // each copy's text, in order: nothing lost or duplicated at any size
    expect(x.text.length).toBeGreaterThan(copies * text.length * 0.99);
    expect(x.text.startsWith(text)).toBe(true);
    expect(x.text.endsWith(text)).toBe(true);
    expect(x.text.split('Joins Between Tables').length - 1).toBe(
      copies * (text.split('Joins Between Tables').length - 1),
    );
  });
});

describe('broken markup', () => {
  const before = '<html><body><p>kept before the damage</p>';
  it.each([
    ['an unterminated comment', '<!-- never closed <p>lost'],
    ['an unterminated tag', '<div class="x" id=y'],
    ['an unterminated quoted attribute', '<a href="x>lost text</a><p>lost'],
    ['an unterminated script', '<script>var a = "<p>lost</p>";'],
    ['an unterminated CDATA section', '<![CDATA[ lost'],
  ])('%s: the text before it, counted as truncated', async (_, tail) => {
    const { rows, stats } = await runOp(extractHtml, {}, [textBatch([before + tail])]);
    expect(rows[0]!.text).toBe('kept before the damage');
    expect(stats.counters?.['extract.truncated_markup']).toBe(1);
  });

  it('markup cut before any text is a parse error; stray "<" and bogus markup are text or nothing', async () => {
    const { stats } = await runOp(extractHtml, {}, [textBatch(['<div class="never closed', '<!-- only'])]);
    expect(stats.dropReasons).toEqual({ 'extract.parse_error': 2 });
    // the HTML standard's tokenizer: "< " and "<4" are text; "<?...>", "<!...>", "</ p>" are bogus
    // comments and "</>" is nothing (linkedom's parser, not a standard one, keeps "</>" as text)
    const odd = '<p>1 < 2 and 3 <4</p><? pi ?><!doctype html></><!bogus>x</ p>y';
    expect((extractMainText(odd, cfg()) as { text: string }).text).toBe('1 < 2 and 3 <4\n\nxy');
  });
});

describe('junk', () => {
  it('binary junk is dropped as binary; the scanner itself survives it and random damage', () => {
    const r = rng(17);
    const junk = String.fromCharCode(...Array.from({ length: 20_000 }, () => Math.floor(r() * 256)));
    expect(extractMainText(`<html>${junk}`, cfg())).toEqual({ drop: 'extract.binary' });
    // past the guard: markup-heavy junk ('<', '&', quotes and letters) scans to the end
    const alphabet = '<>/&#;"\'=!-[]? abcdivp\n';
    const markupJunk = Array.from({ length: 200_000 }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
    const x = fastExtract(markupJunk, { maxDepth: 256, linkDensity: 0.5 });
    expect(x.text.length).toBeLessThanOrEqual(markupJunk.length);
    // a real page cut and spliced at random places: never a throw, never more text than input
    for (let i = 0; i < 200; i++) {
      const a = Math.floor(r() * html.length);
      const b = Math.floor(r() * html.length);
      const damaged = html.slice(0, Math.min(a, b)) + html.slice(Math.max(a, b), Math.max(a, b) + 5000);
      const y = extractMainText(damaged, cfg());
      if (!('drop' in y)) expect(y.text.length).toBeLessThanOrEqual(damaged.length);
    }
  });
});
