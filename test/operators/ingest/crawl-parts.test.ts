// The crawler's pieces on their own: URL normalisation and filters, link extraction, address policy,
// body decoding, frontier dedup and state.
import { describe, expect, it } from 'vitest';
import { AddressPolicy } from '../../../operators/ingest/crawl/address-policy.ts';
import { decodeBody } from '../../../operators/ingest/crawl/fetch-page.ts';
import { Frontier } from '../../../operators/ingest/crawl/frontier.ts';
import { extractLinks } from '../../../operators/ingest/crawl/links.ts';
import { linkFilter, normalizeUrl, originOf } from '../../../operators/ingest/crawl/url.ts';

const norm = (href: string, base?: string, q: 'keep' | 'sort' | 'drop' = 'keep') => normalizeUrl(href, base, q)?.href;

describe('crawl: URL normalisation', () => {
  it('lower-cases scheme and host, drops default port, fragment and credentials, resolves relative paths', () => {
    expect(norm('HTTP://User:pw@Example.COM:80/a/./b/../c.html#frag')).toBe('http://example.com/a/c.html');
    expect(norm('https://example.com:443/')).toBe('https://example.com/');
    expect(norm('https://example.com:8443/x')).toBe('https://example.com:8443/x');
    expect(norm('../up.html?x=1', 'http://h/a/b/page.html')).toBe('http://h/a/up.html?x=1');
    expect(norm('//other.org/p', 'https://h/')).toBe('https://other.org/p');
    expect(norm('http://h/Case/Sensitive')).toBe('http://h/Case/Sensitive');
  });
  it('normalises percent escapes and the query as configured', () => {
    expect(norm('http://h/%7euser/%2f%3a')).toBe('http://h/~user/%2F%3A');
    expect(norm('http://h/p?b=2&a=1')).toBe('http://h/p?b=2&a=1');
    expect(norm('http://h/p?b=2&a=1', undefined, 'sort')).toBe('http://h/p?a=1&b=2');
    expect(norm('http://h/p?b=2&a=1', undefined, 'drop')).toBe('http://h/p');
    expect(norm('http://h/p?')).toBe('http://h/p');
    expect(norm('http://[bad')).toBeUndefined();
  });
  it('filters by scheme, host pattern and scope prefix', () => {
    const f = linkFilter(['example.com', '*.docs.org', '127.0.0.1:8080'], []);
    const why = (s: string) => f(new URL(s));
    expect(why('ftp://example.com/')).toBe('refused scheme');
    expect(why('javascript:alert(1)')).toBe('refused scheme');
    expect(why('https://example.com/x')).toBeUndefined();
    expect(why('http://a.b.docs.org/')).toBeUndefined();
    expect(why('http://docs.org/')).toBeUndefined(); // "*.docs.org" includes the domain itself
    expect(why('http://evil-example.com/')).toBe('off-site');
    expect(why('http://127.0.0.1:8080/')).toBeUndefined();
    expect(why('http://127.0.0.1:8081/')).toBe('off-site');
    const scoped = linkFilter(['h'], ['http://h/docs/']);
    expect(scoped(new URL('http://h/docs/a'))).toBeUndefined();
    expect(scoped(new URL('http://h/blog/a'))).toBe('out of scope');
    expect(originOf(new URL('HTTP://H:80/x'))).toBe('http://h');
  });
});

describe('crawl: link extraction', () => {
  it('finds <a>/<area> hrefs and the first <base>, skipping comments, scripts and nofollow', () => {
    const html = `<html><head><base href="/root/"><base href="/ignored/"><title><a href="t"></title>
      <script>document.write('<a href="s.html">')</script><style>a[href="c"]{}</style></head><body>
      <!-- <a href="commented.html"> -->
      <a href="one.html">1</a> <A HREF='two.html' title="x > y">2</A> <a class=x href=three.html>3</a>
      <a title="href=no" href="four.html?a=1&amp;b=2">4</a> <area shape=rect href="map.html">
      <a rel="nofollow" href="nf.html">n</a> <abbr href="no.html"></abbr> <a name="anchor">a</a>
      <p>&lt;a href="escaped.html"&gt;</p></body></html>`;
    const l = extractLinks(html);
    expect(l.base).toBe('/root/');
    expect(l.hrefs).toEqual(['one.html', 'two.html', 'three.html', 'four.html?a=1&b=2', 'map.html']);
    expect(extractLinks(html, { nofollow: true }).hrefs).toContain('nf.html');
  });
  it('survives unterminated comments and scripts', () => {
    expect(extractLinks('<a href="a">x</a><!-- <a href="b">').hrefs).toEqual(['a']);
    expect(extractLinks('<a href="a">x</a><script><a href="b">').hrefs).toEqual(['a']);
  });
});

describe('crawl: address policy', () => {
  it('refuses private, loopback, link-local and reserved ranges unless allowed', () => {
    const p = new AddressPolicy(['127.0.0.1', '10.9.0.0/16'], true, 1000);
    for (const ip of [
      '10.0.0.1',
      '172.16.5.4',
      '192.168.0.1',
      '169.254.169.254',
      '127.0.0.2',
      '0.0.0.0',
      '100.64.1.1',
      '224.0.0.1',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:10.0.0.1',
      '::',
    ])
      expect(p.permits(ip), ip).toBe(false);
    for (const ip of ['127.0.0.1', '10.9.3.4', '93.184.215.14', '2606:4700::1111'])
      expect(p.permits(ip), ip).toBe(true);
    expect(new AddressPolicy([], false, 1000).permits('10.0.0.1')).toBe(true);
    expect(() => new AddressPolicy(['localhost'], true, 1000)).toThrow(/allowAddresses/);
  });
  it('resolves names with dns.lookup and refuses when no address is permitted', async () => {
    await expect(new AddressPolicy([], true, 2000).resolve('localhost')).rejects.toThrow(
      /localhost resolves to .*allowAddresses/,
    );
    await expect(new AddressPolicy([], true, 2000).resolve('[::1]')).rejects.toThrow(/::1/);
    expect(await new AddressPolicy(['127.0.0.1'], true, 2000).resolve('127.0.0.1')).toEqual([
      { address: '127.0.0.1', family: 4 },
    ]);
  });
});

describe('crawl: body decoding and frontier', () => {
  it('decodes by header charset, then <meta charset>, then UTF-8', () => {
    const latin1 = Buffer.from('<meta charset="iso-8859-1"><p>caf\xe9</p>', 'latin1');
    expect(decodeBody(latin1, undefined)).toContain('café');
    expect(decodeBody(Buffer.from('caf\xe9', 'latin1'), 'windows-1252')).toBe('café');
    expect(decodeBody(Buffer.from('café'), 'no-such-charset')).toBe('café');
  });
  it('admits each URL once, serves origins round-robin, and round-trips its state', () => {
    const f = new Frontier((u) => new URL(u).origin);
    for (const u of ['http://a/1', 'http://a/2', 'http://b/1', 'http://a/1'])
      if (f.claim(u) === 'new') f.enqueue({ url: u, depth: 0, referrer: null });
    expect(f.pending).toBe(3);
    const order = [f.take(() => true)!, f.take(() => true)!].map((t) => t.entry.url);
    expect(order).toEqual(['http://a/1', 'http://b/1']);
    const s = f.state([{ url: 'http://a/1', depth: 0, referrer: null }]);
    const g = new Frontier((u) => new URL(u).origin);
    g.restore({ pending: JSON.parse(JSON.stringify(s.pending)) as typeof s.pending, seen: s.seen });
    expect(g.pending).toBe(2);
    expect(g.claim('http://b/1')).toBe('known');
    expect(g.claim('http://c/1')).toBe('new');
  });
});
