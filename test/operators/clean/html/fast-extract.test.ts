// The fast extractor against the DOM path (linkedom's parse + the same boilerplate rules, mode
// 'body') as its reference: the same text on real pages (Debian's PostgreSQL manual and the Linux
// kernel's Sphinx docs) and on markup exercising the tree model (implied end tags, misnesting,
// raw text, comments, entities). Then what only the fast mode does: link density, hidden elements.
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { extractHtml, extractMainText } from '../../../../operators/clean/extract-html.ts';
import { pgPages, runOp, textBatch } from '../real-data.ts';
import { kernelPages } from './kernel-pages.ts';

type Cfg = Parameters<typeof extractMainText>[1];
const cfg = (over: Record<string, unknown> = {}) => extractHtml.def.config.parse(over) as Cfg;
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
const textOf = (html: string, over: Record<string, unknown> = {}) => {
  const x = extractMainText(html, cfg(over));
  return 'drop' in x ? `(dropped: ${x.drop})` : x.text;
};

describe('fast extraction equals the DOM path', () => {
  it('on the PostgreSQL manual and the kernel docs (link density off: the DOM path has none)', () => {
    const pages = [...pgPages().filter((_, i) => i % 20 === 0), ...kernelPages(100)];
    expect(pages.length).toBeGreaterThan(80);
    for (const p of pages)
      expect(squash(textOf(p.html, { linkDensity: 1 })), p.name).toBe(squash(textOf(p.html, { mode: 'body' })));
  });

  const markup = [
    '<ul><li>a<li>b</ul>after', // implied </li>
    '<p>one<p>two<div>three</div>four', // a block closes an open <p>
    '<table><tr><td>a<td>b<tr><td>c</table>', // implied cell and row ends
    '<dl><dt>term<dd>def<dt>t2<dd>d2</dl>',
    '<ul><li>a<ul><li>b<li>c</ul><li>d</ul>', // nested lists
    '<pre>\n  x  y\n   z</pre>after', // whitespace kept, the first newline is not content
    'A &amp; B &lt;tag&gt; &copy;2024 &#x41;&#66; &#128; &bogus; &notin; &notit; &#0; &#x110000;',
    '<p>a<!-- c <p>no --> b<!----> c<!--->d</p>', // comments, empty comments
    '<script>if (a<b) { document.write("</p>") }</script><p>text</p>', // raw text holds '<' and end tags
    '<style>p { color: red }</style><noscript>enable js</noscript><template><p>t</p></template>x',
    '<b><i>x</b>y</i>z', // misnested inline
    '<p>a</div>b</p>', // stray end tag
    '<h1>T<h2>U</h2>',
    '<select><option>a<option>b</select>after',
    '<p>x<br>y<br/>z<hr>w</p>',
    '<div>a<span>b</span> c  d\n e\t</div>',
    '<p>in<table><tr><td>cell</table>out',
    '<textarea><p>not</p></textarea>x',
    '<nav>menu</nav><header>top</header><p>body</p><footer>bottom</footer><aside>side</aside>',
    '<div class="navheader">Prev Next</div><div id="sidebar">s</div><div role="navigation">r</div><p>p</p>',
    '<div role="main" class="nav">kept by role</div>',
    '<svg><title>icon</title><path d="M0"/></svg><math><mi>x</mi></math>visible',
    '<p>a <a href="#">link</a> b <img src="x.png" alt="alt"> c</p>',
    '<P CLASS="x">Upper <B>case</B> tags</P>',
    '<p title="a > b">quoted &gt; in attribute</p>',
  ];
  it.each(markup)('on %j', (snippet) => {
    const html = `<html><head><title>t</title></head><body>${snippet}</body></html>`;
    expect(textOf(html, { linkDensity: 1 })).toBe(textOf(html, { mode: 'body' }));
  });
});

describe('fast extraction: what the DOM path lacks', () => {
  it('leaves hidden elements out (hidden, aria-hidden, display:none, visibility:hidden)', () => {
    const [page] = pgPages(['tutorial-join.html']);
    const [source, inner] = /<p>([^<]{80,})<\/p>/.exec(page!.html)!;
    const para = inner!.trim().split(/\s+/).slice(0, 8).join(' ');
    const marked = (attr: string) => page!.html.replace(source, `<p ${attr}>${inner}</p>`);
    expect(textOf(page!.html)).toContain(para);
    for (const attr of ['hidden', 'aria-hidden="true"', 'style="display: none"', "style='visibility:hidden'"])
      expect(textOf(marked(attr)), attr).not.toContain(para);
    expect(textOf(marked('aria-hidden="false"'))).toContain(para);
  });

  it('linkDensity: link lists (a kernel docs index) go, their titles kept only with linkDensity 1', async () => {
    const [index] = kernelPages(1, 'timers/index.html');
    // the toctree's link titles, read from the DOM independently
    const doc = parseHTML(index!.html).document as unknown as {
      querySelectorAll(s: string): ArrayLike<{ textContent: string }>;
    };
    const titles = Array.from(doc.querySelectorAll('.toctree-wrapper a')).map((a) => squash(a.textContent));
    expect(titles.length).toBeGreaterThan(3);
    const dense = await runOp(extractHtml, {}, [textBatch([index!.html])]);
    const kept = await runOp(extractHtml, { linkDensity: 1 }, [textBatch([index!.html])]);
    for (const t of titles) {
      expect(squash(kept.rows[0]!.text as string)).toContain(t);
      expect(squash(dense.rows[0]!.text as string)).not.toContain(t);
    }
    expect(dense.stats.counters?.['extract.link_dense']).toBeGreaterThan(0);
    expect(kept.stats.counters?.['extract.link_dense']).toBeUndefined();
  });

  it('keeps prose whose sentences are links (link text inside <p> is not link-dense)', () => {
    const [acronyms] = pgPages(['acronyms.html']);
    const text = textOf(acronyms!.html);
    expect(text).toContain('American National Standards Institute');
    expect(text).toContain('Comma Separated Values');
  });

  it('langHint: an html_lang column with <html lang>, null where the page declares none', async () => {
    const pages = [...kernelPages(400), ...pgPages(['sql-select.html'])];
    const declared = pages.map(
      (p) => (parseHTML(p.html).document.documentElement.getAttribute('lang') ?? null) || null,
    );
    expect(declared.filter((l) => l !== null).length).toBeGreaterThan(3);
    expect(declared).toContain(null);
    const { rows, batches } = await runOp(extractHtml, { langHint: true }, [textBatch(pages.map((p) => p.html))]);
    expect(rows.map((r) => r.html_lang)).toEqual(declared);
    expect(batches[0]!.schema.fields.find((f) => f.name === 'html_lang')!.nullable).toBe(true);
    const off = await runOp(extractHtml, {}, [textBatch(pages.map((p) => p.html))]);
    expect(off.batches[0]!.schema.names).not.toContain('html_lang');
    // the DOM modes give the same hint
    const dom = await runOp(extractHtml, { langHint: true, mode: 'body' }, [textBatch(pages.map((p) => p.html))]);
    expect(dom.rows.map((r) => r.html_lang)).toEqual(declared);
  });

  it('title: the <title> text, entities decoded, whitespace collapsed (document.title in the HTML standard)', () => {
    for (const p of kernelPages(200)) {
      const fast = extractMainText(p.html, cfg());
      const dom = extractMainText(p.html, cfg({ mode: 'body' }));
      if ('drop' in fast || 'drop' in dom) throw new Error(`${p.name} dropped`);
      expect(fast.title, p.name).toBe(dom.title!.replace(/[ \t\n\r\f]+/g, ' '));
    }
  });
});
