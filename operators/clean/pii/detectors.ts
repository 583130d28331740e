// Detectors for personal data in free text: e-mail addresses, IPv4 and IPv6 addresses (valid ones
// only) and phone numbers. Each is a candidate regex plus a check, so phone numbers can be told from
// years, dates, ranges and version numbers, which a regex alone cannot do well.
import { isIPv6 } from 'node:net';

export const PII_KINDS = ['email', 'ipv6', 'ipv4', 'phone'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export interface Detector {
  kind: PiiKind;
  pattern: RegExp;
  /** extra check on a candidate match (the regex cannot express it) */
  accept?: (match: string) => boolean;
  /** a check that needs the text around the match (at `at`, `length` characters long) */
  acceptAt?: (text: string, at: number, length: number) => boolean;
}

// local part: RFC 5322 atext without quote, slash and equals (which glue to surrounding text), up to
// 200 characters since bounce addresses (VERP) exceed the RFC's 64
const EMAIL =
  /(?<![\w.!#$%&*+?^`{|}~-])[\w!#$%&*+?^`{|}~-][\w.!#$%&*+?^`{|}~-]{0,199}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/g;

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
// not inside a longer dotted number (1.2.3.4.5) or a word
const IPV4 = new RegExp(`(?<![\\w.])${OCTET}(?:\\.${OCTET}){3}(?![\\w]|\\.\\d)`, 'g');
// four dotted numbers after "Section", "version", "v", "§"... are a numbering, not an address, and
// so is one that starts a line and ends in ". " (a numbered heading: "24.2.2.1. Stable Collations")
const NUMBERING =
  /(?:\b(?:sections?|chapters?|appendix|tables?|figures?|examples?|versions?|releases?|ver|v)\.?|§)\s*$/i;
const acceptIPv4At = (text: string, at: number, length: number): boolean => {
  if (NUMBERING.test(text.slice(Math.max(0, at - 16), at))) return false;
  const lineStart = /(^|\n)[ \t]*$/.test(text.slice(Math.max(0, at - 40), at));
  return !(lineStart && /^\. \S/.test(text.slice(at + length, at + length + 3)));
};

// hex groups with at least two colons, optionally ending in an embedded IPv4; checked by node:net
const IPV6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:]|\.\d)/g;
const acceptIPv6 = (m: string): boolean => {
  if (!isIPv6(m)) return false;
  // "::", "a::" and similar fragments (C++ scopes, Haskell) are not addresses
  const groups = m.split(':').filter((g) => g.length > 0);
  if (groups.length < 2) return false;
  // eight two-digit groups is an EUI-64 MAC address (08:00:2b:01:02:03:04:05)
  return !(groups.length === 8 && groups.every((g) => g.length === 2));
};

// optional +country code, optional (area code), then 2-6 digit groups joined by one space, dot or hyphen
// not glued to a figure (67,229 1945 100,031 is a table, $35 860 an amount) or a host name
const PHONE =
  /(?<![\w+.,\/$€£-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,4}(?:[ .-]\d{1,4}){1,5}(?![\w\/%]|[.,-]\w)/g;
const YEAR = /^(1[5-9]|20)\d\d$/;
const DATE = /\b\d{1,2}[-./]\d{1,2}[-./]\d{4}\b|\b\d{4}[-./]\d{1,2}[-./]\d{1,2}\b/;
const acceptPhone = (m: string): boolean => {
  const digits = m.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15) return false;
  if (m.startsWith('+')) return digits.length >= 8;
  if (m.includes('(')) return digits.length >= 10;
  // 555-1234: the one short local form accepted, unless it is a standard and its year (IEEE 802-2001)
  if (/^\d{3}-\d{4}$/.test(m)) return !YEAR.test(m.slice(4));
  if (digits.length < 10 || DATE.test(m)) return false;
  const groups = m.split(/[ .-]/);
  // byte dumps (od -c: 377 377 377 377), repeated figures and counting (a calendar's 14 15 16 17 18)
  // are not numbers anyone dials
  if (new Set(groups).size === 1 || (groups.length >= 4 && groups.every((g) => g.length === 3))) return false;
  const steps = groups.filter((g, i) => i > 0 && Number(g) === Number(groups[i - 1]) + 1).length;
  if (steps >= 3) return false;
  // hex dumps (30 00 00 00 00 00) repeat a group; columns of figures have one-digit groups (only the
  // North American trunk prefix 1 is one digit, and only in front)
  const seen = new Map<string, number>();
  for (const g of groups) seen.set(g, (seen.get(g) ?? 0) + 1);
  if (Math.max(...seen.values()) >= 3 || groups.some((g, i) => g.length === 1 && (i > 0 || g !== '1'))) return false;
  // dotted: 5.50.4133.2400 is a software version, not 555.123.4567 or 1.800.960.8400
  if (m.includes('.') && groups[0]!.length < 2 && !/^1\.\d{3}\.\d{3}\.\d{4}$/.test(m)) return false;
  // 200-168-162-123: an IPv4 address written with hyphens (host names)
  if (groups.length === 4 && groups.every((g) => g.length <= 3 && Number(g) <= 255)) return false;
  // lists of years (1990 1991 1992) and year-led dates are not phone numbers
  if (groups.every((g) => YEAR.test(g))) return false;
  if (YEAR.test(groups[0]!) && groups.slice(1).every((g) => g.length <= 2)) return false;
  // mixed separators inside one number are rare in phones and common in tables of figures
  const seps = new Set(m.match(/[ .-]/g));
  return seps.size === 1 || (seps.size === 2 && seps.has(' ') && m.includes('-'));
};

export const DETECTORS: Readonly<Record<PiiKind, Detector>> = {
  email: { kind: 'email', pattern: EMAIL },
  ipv6: { kind: 'ipv6', pattern: IPV6, accept: acceptIPv6 },
  ipv4: { kind: 'ipv4', pattern: IPV4, acceptAt: acceptIPv4At },
  phone: { kind: 'phone', pattern: PHONE, accept: acceptPhone },
};

/** `text` with each detected item of the given kinds replaced; counts per kind. */
export function redact(
  text: string,
  kinds: readonly PiiKind[],
  placeholder: (k: PiiKind) => string,
): { text: string; counts: Partial<Record<PiiKind, number>> } {
  const counts: Partial<Record<PiiKind, number>> = {};
  let out = text;
  // order matters: e-mails hold dotted names, IPv6 can embed IPv4, and IPs look like dotted phones
  for (const kind of PII_KINDS) {
    if (!kinds.includes(kind)) continue;
    const d = DETECTORS[kind];
    const ph = placeholder(kind);
    out = out.replace(d.pattern, (m: string, ...rest: unknown[]) => {
      if (d.accept && !d.accept(m)) return m;
      if (d.acceptAt) {
        // replace() passes (match, ...groups, offset, text[, namedGroups])
        const tail = typeof rest[rest.length - 1] === 'object' ? rest.slice(0, -1) : rest;
        if (!d.acceptAt(tail[tail.length - 1] as string, tail[tail.length - 2] as number, m.length)) return m;
      }
      counts[kind] = (counts[kind] ?? 0) + 1;
      return ph;
    });
  }
  return { text: out, counts };
}
