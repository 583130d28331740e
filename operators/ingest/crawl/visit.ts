// One visit of a frontier entry: check the address, fetch, archive the exchange, and classify the
// response as a page (with its links), a redirect, or a failure with its drop reason.
import type http from 'node:http';
import { AddressError, type AddressPolicy } from './address-policy.ts';
import { decodeBody, fetchPage, type FetchOptions } from './fetch-page.ts';
import type { Entry } from './frontier.ts';
import { extractLinks } from './links.ts';
import { normalizeUrl, type QueryMode } from './url.ts';
import type { WarcWriter } from './warc.ts';

interface Common {
  entry: Entry;
  status: number | null;
  contentType: string | null;
  fetchedAt: Date | null;
}
export type Outcome =
  /** links: the page's distinct links up to maxLinks; linksOver: hrefs left after that */
  | (Common & { kind: 'page'; text: string; links: URL[]; linksOver: number })
  | (Common & { kind: 'redirect'; location: string | undefined })
  | (Common & { kind: 'failed'; reason: string; detail: string })
  /** stopped by the crawl itself (limit or cancellation): the entry goes back to the frontier */
  | { kind: 'aborted'; entry: Entry };

export interface VisitEnv {
  policy: AddressPolicy;
  fetch: Omit<FetchOptions, 'addresses' | 'agent' | 'signal'>;
  agents: { http: http.Agent; https: http.Agent };
  signal: AbortSignal;
  query: QueryMode;
  /** distinct links taken from one page */
  maxLinks: number;
  warc?: WarcWriter;
}

export async function visit(entry: Entry, env: VisitEnv): Promise<Outcome> {
  const url = new URL(entry.url);
  const none = { entry, status: null, contentType: null, fetchedAt: null };
  let addresses;
  try {
    addresses = await env.policy.resolve(url.hostname);
  } catch (err) {
    if (err instanceof AddressError) return { ...none, kind: 'failed', reason: err.reason, detail: err.message };
    throw err;
  }
  if (env.signal.aborted) return { kind: 'aborted', entry };
  const agent = url.protocol === 'https:' ? env.agents.https : env.agents.http;
  const r = await fetchPage(url, { ...env.fetch, addresses, agent, signal: env.signal });
  if (r.failure === 'aborted' || r.failure === 'byte limit') return { kind: 'aborted', entry };
  env.warc?.add(r);
  const common = { entry, status: r.status, contentType: r.contentType, fetchedAt: r.startedAt };
  if (r.failure) return { ...common, kind: 'failed', reason: r.failure, detail: r.detail ?? '' };
  const status = r.status!;
  if (status >= 300 && status < 400 && status !== 304) return { ...common, kind: 'redirect', location: r.location };
  if (status < 200 || status >= 300)
    return { ...common, kind: 'failed', reason: `http ${status}`, detail: `${status} ${r.statusText}`.trim() };
  const text = decodeBody(r.body, r.charset);
  const found = extractLinks(text);
  const base = (found.base !== undefined ? normalizeUrl(found.base, url, 'keep') : undefined) ?? url;
  // a link flood (hundreds of thousands of hrefs) costs a URL object each only up to the cap
  const links: URL[] = [];
  const distinct = new Set<string>();
  let i = 0;
  for (; i < found.hrefs.length && distinct.size < env.maxLinks; i++) {
    const u = normalizeUrl(found.hrefs[i]!, base, env.query);
    if (u && !distinct.has(u.href)) {
      distinct.add(u.href);
      links.push(u);
    }
  }
  return { ...common, kind: 'page', text, links, linksOver: found.hrefs.length - i };
}
