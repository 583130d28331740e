// Config values that can be checked before a run starts are checked by the config schemas, so a spec
// with them fails validation with the path (exit 2) instead of failing, or quietly doing nothing,
// at run time.
import { describe, expect, it } from 'vitest';
import { language } from '../../operators/clean/language.ts';
import { AddressPolicy } from '../../operators/ingest/crawl/address-policy.ts';
import { CrawlConfig } from '../../operators/ingest/crawl/config.ts';

const seeds = ['http://127.0.0.1:8080/'];
const problems = (config: Record<string, unknown>) => {
  const r = CrawlConfig.safeParse({ seeds, ...config });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('crawl', () => {
  it('allowAddresses: IPv4 and IPv6 addresses and CIDR ranges, prefix lengths in range', () => {
    expect(problems({ allowAddresses: ['127.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', 'fd00::/8', '::/128'] })).toEqual(
      [],
    );
    expect(
      problems({
        allowAddresses: ['localhost', '10.0.0.0/33', '::1/129', '10.0.0.0/', '10.0.0.0/8/8', '1.2.3.4/-1', '300.1.1.1'],
      }),
    ).toEqual([
      'allowAddresses.0: "localhost" is not an IPv4 or IPv6 address (expected e.g. "127.0.0.1", "::1" or a CIDR range "10.0.0.0/8")',
      'allowAddresses.1: prefix length "33" of "10.0.0.0/33" is not a whole number from 0 to 32 (IPv4)',
      'allowAddresses.2: prefix length "129" of "::1/129" is not a whole number from 0 to 128 (IPv6)',
      'allowAddresses.3: prefix length "" of "10.0.0.0/" is not a whole number from 0 to 32 (IPv4)',
      'allowAddresses.4: prefix length "8/8" of "10.0.0.0/8/8" is not a whole number from 0 to 32 (IPv4)',
      'allowAddresses.5: prefix length "-1" of "1.2.3.4/-1" is not a whole number from 0 to 32 (IPv4)',
      'allowAddresses.6: "300.1.1.1" is not an IPv4 or IPv6 address (expected e.g. "127.0.0.1", "::1" or a CIDR range "10.0.0.0/8")',
    ]);
  });

  it('a CIDR range the schema accepts is the range the crawler allows', () => {
    const policy = new AddressPolicy(['10.1.0.0/16', 'fd00::/8'], true, 1000);
    expect([
      policy.permits('10.1.200.3'),
      policy.permits('10.2.0.1'),
      policy.permits('fd12::1'),
      policy.permits('fe80::1'),
    ]).toEqual([true, false, true, false]);
  });

  it('allowedHosts are host patterns and scope entries are http(s) URLs', () => {
    expect(
      problems({
        allowedHosts: ['example.com', 'example.com:8080', '*.example.com', '[::1]:8080'],
        scope: ['https://example.com/docs/'],
      }),
    ).toEqual([]);
    const bad = problems({
      allowedHosts: ['https://example.com', 'example.com/docs', 'example.com:70000'],
      scope: ['example.com/docs/'],
    });
    expect(bad.map((l) => l.split(':')[0])).toEqual(['allowedHosts.0', 'allowedHosts.1', 'allowedHosts.2', 'scope.0']);
    expect(bad[0]).toMatch(
      /expected a host pattern: "example.com", "example.com:8080" \(that port only\) or "\*.example.com"; no scheme or path/,
    );
    expect(bad[3]).toMatch(/expected an absolute http:\/\/ or https:\/\/ URL/);
  });
});

describe('language', () => {
  it('language codes must be ones franc can identify (a typo would match no document)', () => {
    expect(() =>
      language({ allowed: ['en', 'deu', 'zh', 'tha', 'sco'], only: ['eng', 'deu', 'cmn', 'tha', 'sco'], ignore: [] }),
    ).not.toThrow();
    expect(() => language({ allowed: ['eb'] })).toThrow(
      /config\.allowed\.0: "eb" is not a language franc identifies; use an ISO 639-1 code like "en"/,
    );
    expect(() => language({ only: ['eng', 'enq'] })).toThrow(
      /config\.only\.1: "enq" is not a language franc identifies/,
    );
  });
});
