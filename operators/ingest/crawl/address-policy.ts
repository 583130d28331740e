// Which IP addresses the crawler may connect to. A crawler follows links written by strangers, so by
// default it refuses private, loopback, link-local and reserved ranges (SSRF) unless explicitly allowed.
// Host names are resolved here with dns.lookup and only the permitted addresses are handed to the
// socket (through the request's `lookup` option), so a later DNS answer cannot redirect the connection.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const V4_BLOCKED: Array<[string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const V6_BLOCKED: Array<[string, number]> = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
];

const family = (ip: string): 'ipv4' | 'ipv6' => (isIP(ip) === 6 ? 'ipv6' : 'ipv4');

/** An allowAddresses entry: an IP address, or a CIDR range "address/prefix-length". */
export interface AddressRange {
  ip: string;
  bits?: number;
  family: 'ipv4' | 'ipv6';
}

/** Parses an allowAddresses entry; a string says why it is not one (the config schema reports it at
 * validation, before anything runs). */
export function parseAddressRange(text: string): AddressRange | string {
  const slash = text.indexOf('/');
  const ip = slash < 0 ? text : text.slice(0, slash);
  if (!isIP(ip))
    return `"${ip}" is not an IPv4 or IPv6 address (expected e.g. "127.0.0.1", "::1" or a CIDR range "10.0.0.0/8")`;
  const fam = family(ip);
  if (slash < 0) return { ip, family: fam };
  const max = fam === 'ipv4' ? 32 : 128;
  const prefix = text.slice(slash + 1);
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  if (!(bits <= max))
    return `prefix length "${prefix}" of "${text}" is not a whole number from 0 to ${max} (${fam === 'ipv4' ? 'IPv4' : 'IPv6'})`;
  return { ip, bits, family: fam };
}

/** An error whose `reason` is the crawler's drop reason ("refused address", "dns error"). */
export class AddressError extends Error {
  constructor(
    readonly reason: 'refused address' | 'dns error',
    message: string,
  ) {
    super(message);
  }
}

export class AddressPolicy {
  private readonly blocked = new BlockList();
  private readonly allowed = new BlockList();
  private readonly cache = new Map<string, Promise<LookupAddress[]>>();

  constructor(
    allow: readonly string[],
    readonly refusePrivate: boolean,
    private readonly timeoutMs: number,
  ) {
    for (const [net, bits] of V4_BLOCKED) this.blocked.addSubnet(net, bits, 'ipv4');
    for (const [net, bits] of V6_BLOCKED) this.blocked.addSubnet(net, bits, 'ipv6');
    for (const a of allow) {
      const r = parseAddressRange(a);
      if (typeof r === 'string') throw new Error(`allowAddresses: ${r}`);
      if (r.bits === undefined) this.allowed.addAddress(r.ip, r.family);
      else this.allowed.addSubnet(r.ip, r.bits, r.family);
    }
  }

  permits(ip: string): boolean {
    if (this.allowed.check(ip, family(ip))) return true;
    return !this.refusePrivate || !this.blocked.check(ip, family(ip));
  }

  /**
   * The permitted addresses of a URL's host (an IP literal is checked as is). Throws AddressError when
   * the name does not resolve or none of its addresses is permitted; nothing has connected by then.
   */
  resolve(hostname: string): Promise<LookupAddress[]> {
    const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    let p = this.cache.get(host);
    if (!p) {
      p = this.lookupChecked(host);
      this.cache.set(host, p);
    }
    return p;
  }

  private async lookupChecked(host: string): Promise<LookupAddress[]> {
    const found = isIP(host) ? [{ address: host, family: isIP(host) }] : await this.lookupAll(host);
    const ok = found.filter((a) => this.permits(a.address));
    if (ok.length === 0) {
      throw new AddressError(
        'refused address',
        `${host} resolves to ${found.map((a) => a.address).join(', ')}: private/loopback/link-local or reserved; ` +
          'add it to allowAddresses to crawl it',
      );
    }
    return ok;
  }

  private lookupAll(host: string): Promise<LookupAddress[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new AddressError('dns error', `${host}: no DNS answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      dnsLookup(host, { all: true }, (err, addresses) => {
        clearTimeout(timer);
        if (err) reject(new AddressError('dns error', `${host}: ${err.message}`));
        else resolve(addresses);
      });
    });
  }
}

/** A `lookup` for http.request that answers only with already checked addresses. */
export function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const first = addresses[0]!;
    if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, [...addresses]);
    else callback(null, first.address, first.family);
  };
}
