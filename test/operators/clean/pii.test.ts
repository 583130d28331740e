// PII redaction on real SpamAssassin mail (headers full of addresses and relay IPs, bodies with phone
// numbers) and on the State of the Union addresses, whose years, figures and tables must survive.
import { isIPv4 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { pii, redactPii, PII_KINDS } from '../../../operators/clean/pii.ts';
import { emails, runOp, sotu, textBatch } from './real-data.ts';

const ph = (k: string) => `<${k.toUpperCase()}>`;

describe('clean/pii on real mail', () => {
  const mails = [...emails('spam-1'), ...emails('spam-2', 600), ...emails('easy-ham-1', 300)];

  it('redacts every plain e-mail address and valid IPv4, and counts them per kind', async () => {
    const { rows, stats } = await runOp(pii, {}, [textBatch(mails.map((m) => m.text))]);
    const c = stats.counters!;
    expect(c['pii.email']).toBeGreaterThan(5000);
    expect(c['pii.ipv4']).toBeGreaterThan(2000);
    expect(c['pii.phone']).toBeGreaterThan(200);
    expect(rows.reduce((a, r) => a + (r.pii_count as number), 0)).toBe(
      c['pii.email']! + c['pii.ipv4']! + c['pii.phone']! + (c['pii.ipv6'] ?? 0),
    );
    expect(stats.dropped).toBe(0);
    for (const r of rows) {
      const text = r.text as string;
      // independent checks: no simple address, no standalone valid dotted quad is left
      expect(text).not.toMatch(/(?<![\w.+-])[a-z0-9_%+-][a-z0-9._%+-]*@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(?![\w-])/i);
      for (const m of text.matchAll(/(?<![\w.])\d{1,3}(\.\d{1,3}){3}(?![\w.])/g))
        expect(isIPv4(m[0]), m[0]).toBe(false);
      expect(text).not.toMatch(/(?<!\d)1-8\d\d-\d{3}-\d{4}(?!\d)|\(\d{3}\) ?\d{3}-\d{4}(?!\d)/);
    }
  });

  it('the per-row count matches what changed in that row', async () => {
    const some = mails.slice(0, 200);
    const { rows } = await runOp(
      pii,
      { placeholders: { email: '<EMAIL>', ipv4: '<IPV4>', ipv6: '<IPV6>', phone: '<PHONE>' } },
      [textBatch(some.map((m) => m.text))],
    );
    rows.forEach((r, i) => {
      const placeholders = ((r.text as string).match(/<(EMAIL|IPV4|IPV6|PHONE)>/g) ?? []).length;
      const already = (some[i]!.text.match(/<(EMAIL|IPV4|IPV6|PHONE)>/g) ?? []).length;
      expect(placeholders - already).toBe(r.pii_count);
    });
  });

  it('only the kinds asked for', async () => {
    const { rows, stats } = await runOp(pii, { kinds: ['email'], countColumn: false }, [
      textBatch(mails.slice(0, 100).map((m) => m.text)),
    ]);
    expect(Object.keys(stats.counters!)).toEqual(['pii.email']);
    expect(rows.some((r) => /\[\d+\.\d+\.\d+\.\d+\]/.test(r.text as string))).toBe(true);
    expect(rows[0]).not.toHaveProperty('pii_count');
  });
});

describe('clean/pii avoids false positives', () => {
  it('changes nothing in the State of the Union addresses (years, dates, money, tables of figures)', () => {
    const addresses = sotu();
    let numbers = 0;
    for (const d of addresses) {
      const r = redactPii(d.text, PII_KINDS, ph);
      expect(r.counts, d.name).toEqual({});
      numbers += d.text.match(/\d[\d,.-]*\d/g)?.length ?? 0;
    }
    expect(numbers).toBeGreaterThan(10_000);
  });

  it('phone numbers in common formats, and look-alikes that are not', () => {
    const phones = [
      '+44 20 7946 0958',
      '(555) 123-4567',
      '+1-202-555-0143',
      '555-123-4567',
      '020 7946 0958',
      '1-800-345-9708',
      '+33 1 42 68 53 00',
      '555.123.4567',
      '1.800.960.8400',
    ];
    for (const p of phones) expect(redactPii(`Call ${p} today.`, ['phone'], ph).text, p).toBe('Call <PHONE> today.');
    const not = [
      'in 1990-1995 and',
      'version 2.4.18-3 of',
      'ISBN 0-306-40615-2 here',
      'on 2002-08-22 10:15:00 UTC',
      'paid $1,234,567.89 in',
      'years 1998 1999 2000 2001',
      'MimeOLE V5.50.4133.2400',
      'page 12 of 40',
      '10-05-2001 15:30',
      'id 5551234567890123456',
      '3.14159',
      // from the PostgreSQL manual: od -c output, a cal(1) calendar, a standard and its year
      'A L G E R I A 377 377 377 377 \\0 003',
      'S  1  2 14 15 16 17 18 19 20 21',
      'IEEE Standard 802-2001 specifies',
      'in the year 2525 2525-07-28 mmm',
      '| 30 00 00 00 00 00 00 00 |',
      '2647617 7321113867 0 9866 64 7564 28340',
    ];
    for (const s of not) expect(redactPii(s, ['phone'], ph).counts, s).toEqual({});
  });

  it('IPv4 and IPv6: valid addresses only', () => {
    const valid = [
      '192.168.1.20',
      '8.8.8.8',
      '2001:db8::1',
      'fe80::1ff:fe23:4567:890a',
      '::ffff:192.0.2.128',
      '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
    ];
    for (const ip of valid)
      expect(redactPii(`host ${ip} is up`, ['ipv4', 'ipv6'], ph).text, ip).toMatch(/^host <IPV[46]> is up$/);
    const invalid = [
      '256.1.1.1',
      '1.2.3.4.5',
      '999.999.999.999',
      '2001:db8:::1',
      '12:30:45',
      'std::vector',
      '00:1a:2b:3c:4d:5e',
      '1.2.3',
    ];
    for (const s of invalid) expect(redactPii(`see ${s} now`, ['ipv4', 'ipv6'], ph).counts, s).toEqual({});
    // section and version numbers with four parts, as in the PostgreSQL manual
    for (const s of [
      'see Section 5.4.3.1 for',
      'built with version 2.7.17.1, but',
      'per § 1.2.3.4 of',
      'Intro\n24.2.2.1. Stable Collations',
    ])
      expect(redactPii(s, ['ipv4'], ph).counts, s).toEqual({});
    expect(redactPii("macaddr8 '08:00:2b:01:02:03:04:05'", ['ipv6'], ph).counts).toEqual({});
    expect(redactPii('connect from\n192.168.1.20 as the gateway.', ['ipv4'], ph).counts).toEqual({ ipv4: 1 });
    expect(redactPii('the server 10.1.2.3 in section two', ['ipv4'], ph).counts).toEqual({ ipv4: 1 });
  });
});
