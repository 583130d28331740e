// The crawl's network side, built once per run: the address policy, keep-alive agents (one socket more
// per origin than perHostConcurrency, for robots.txt), the fetch options every visit shares, the
// robots.txt cache (its fetches bounded like pages and archived with them) and the optional WARC writer.
import http from 'node:http';
import https from 'node:https';
import { AddressPolicy } from './address-policy.ts';
import type { CrawlCfg } from './config.ts';
import { fetchPage, type FetchOptions } from './fetch-page.ts';
import { ROBOTS_MAX_BYTES, RobotsCache } from './robots.ts';
import type { VisitEnv } from './visit.ts';
import { WarcWriter } from './warc.ts';

export interface Network {
  policy: AddressPolicy;
  agents: { http: http.Agent; https: http.Agent };
  /** what each visit needs */
  env: VisitEnv;
  robots: RobotsCache;
  warc?: WarcWriter;
}

/**
 * `take(n)` spends n bytes of the crawl's byte budget (false: over it, the response is dropped);
 * `signal` aborts every request when the crawl stops.
 */
export function openNetwork(cfg: CrawlCfg, take: (n: number) => boolean, signal: AbortSignal): Network {
  const policy = new AddressPolicy(cfg.allowAddresses, cfg.refusePrivate, cfg.connectTimeoutMs);
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  for (const a of Object.values(agents)) a.maxSockets = cfg.perHostConcurrency + 1;
  const warc = cfg.warcPath ? new WarcWriter(cfg.warcPath, cfg.warcGzip, cfg.userAgent) : undefined;
  const base: Omit<FetchOptions, 'addresses' | 'agent' | 'signal'> = {
    userAgent: cfg.userAgent,
    connectTimeoutMs: cfg.connectTimeoutMs,
    timeoutMs: cfg.timeoutMs,
    maxBodyBytes: cfg.maxBodyBytes,
    contentTypes: cfg.contentTypes,
    take,
  };
  const env: VisitEnv = {
    policy,
    fetch: base,
    agents,
    signal,
    query: cfg.query,
    maxLinks: cfg.maxLinksPerPage,
    warc,
  };
  const robots = new RobotsCache({
    agent: cfg.robotsAgent ?? cfg.userAgent.split('/')[0]!.trim(),
    unavailable: cfg.robotsUnavailable,
    get: async (url) => {
      const addresses = await policy.resolve(url.hostname);
      const r = await fetchPage(url, {
        ...base,
        timeoutMs: cfg.robotsTimeoutMs,
        maxBodyBytes: ROBOTS_MAX_BYTES,
        contentTypes: [],
        truncate: true,
        take: undefined,
        addresses,
        agent: url.protocol === 'https:' ? agents.https : agents.http,
        signal,
      });
      warc?.add(r);
      return r;
    },
  });
  return { policy, agents, env, robots, warc };
}
