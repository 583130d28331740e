// URL normalisation (one spelling per resource, so the frontier can dedup) and the filters a link
// passes before it may enter the frontier: scheme, host and scope.

export type QueryMode = 'keep' | 'sort' | 'drop';

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Upper-case percent escapes and decode those of unreserved characters (RFC 3986 §6.2.2). */
function normalizeEscapes(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`;
  });
}

/**
 * Resolve `href` against `base` and normalise it: lower-case scheme and host and default port removed
 * (WHATWG URL does these), dot segments resolved, fragment and credentials dropped, escapes normalised,
 * query kept, sorted or dropped. Undefined when it does not parse.
 */
export function normalizeUrl(href: string, base: string | URL | undefined, query: QueryMode): URL | undefined {
  let u: URL;
  try {
    u = new URL(href.trim(), base);
  } catch {
    return undefined;
  }
  u.hash = '';
  u.username = '';
  u.password = '';
  if (u.pathname.includes('%')) u.pathname = normalizeEscapes(u.pathname);
  if (query === 'drop') u.search = '';
  else if (u.search.length > 1) {
    if (query === 'sort') u.searchParams.sort();
    else if (u.search.includes('%')) u.search = normalizeEscapes(u.search);
  } else u.search = '';
  return u;
}

export const isHttp = (u: URL): boolean => u.protocol === 'http:' || u.protocol === 'https:';

/** The origin a URL belongs to: robots.txt, politeness and per-host concurrency are per origin. */
export const originOf = (u: URL): string => `${u.protocol}//${u.host}`;

/** Matches a URL's host against patterns "host", "host:port" and "*.domain" (which also matches "domain"). */
export function hostMatcher(patterns: readonly string[]): (u: URL) => boolean {
  const rules = patterns.map((p) => {
    const lower = p.toLowerCase();
    const wild = lower.startsWith('*.');
    const body = wild ? lower.slice(2) : lower;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(body);
    return { wild, host: m?.[1] ?? body, port: m?.[2] };
  });
  return (u) => {
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    return rules.some(
      (r) =>
        (r.port === undefined || r.port === port) &&
        (u.hostname === r.host || (r.wild && u.hostname.endsWith(`.${r.host}`))),
    );
  };
}

/** Why a URL may not be fetched at all (before any robots or address check), or undefined when it may. */
export type LinkFilter = (u: URL) => 'refused scheme' | 'off-site' | 'out of scope' | undefined;

export function linkFilter(allowedHosts: readonly string[], scope: readonly string[]): LinkFilter {
  const hostOk = hostMatcher(allowedHosts);
  const prefixes = scope.map((s) => normalizeUrl(s, undefined, 'keep')?.href ?? s);
  return (u) => {
    if (!isHttp(u)) return 'refused scheme';
    if (!hostOk(u)) return 'off-site';
    if (prefixes.length > 0 && !prefixes.some((p) => u.href.startsWith(p))) return 'out of scope';
    return undefined;
  };
}
