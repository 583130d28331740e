// robots.txt, fetched once per origin and shared by every request to it. Outcomes follow RFC 9309:
// 2xx is parsed (the first 500 KiB), 4xx means no restrictions, and 5xx, timeouts or network errors
// mean "disallow all" unless the crawl is configured to treat them as "allow all".
import robotsModule from 'robots-parser';
import type { FetchResult } from './fetch-page.ts';

type Robot = ReturnType<typeof robotsModule.default>;
// robots-parser is CommonJS (module.exports = function) while its typings declare a default export.
const parseRobots = ((robotsModule as unknown as { default?: unknown }).default ??
  robotsModule) as typeof robotsModule.default;

export const ROBOTS_MAX_BYTES = 500 * 1024;
const MAX_HOPS = 5;

export interface RobotsRules {
  allowed(url: URL): boolean;
  /** Crawl-delay for our agent, in ms */
  crawlDelayMs?: number;
  /** how the rules were obtained, for the log: "200", "404: allow all", "timeout: disallow all" */
  origin: string;
}

export interface RobotsOptions {
  agent: string;
  unavailable: 'disallow' | 'allow';
  /** GET with the robots bounds (timeout, 500 KiB truncation) and the address policy applied */
  get(url: URL): Promise<FetchResult>;
}

const allowAll = (how: string): RobotsRules => ({ allowed: () => true, origin: how });
const disallowAll = (how: string): RobotsRules => ({ allowed: () => false, origin: how });

export class RobotsCache {
  private readonly byOrigin = new Map<string, RobotsRules>();
  private readonly loading = new Map<string, Promise<RobotsRules>>();

  constructor(private readonly o: RobotsOptions) {}

  /** Rules of an origin when already loaded. */
  peek(origin: string): RobotsRules | undefined {
    return this.byOrigin.get(origin);
  }

  load(origin: string): Promise<RobotsRules> {
    const known = this.byOrigin.get(origin);
    if (known) return Promise.resolve(known);
    let p = this.loading.get(origin);
    if (!p) {
      p = this.fetchRules(origin).then((rules) => {
        this.byOrigin.set(origin, rules);
        this.loading.delete(origin);
        return rules;
      });
      this.loading.set(origin, p);
    }
    return p;
  }

  private async fetchRules(origin: string): Promise<RobotsRules> {
    const unavailable = (why: string) =>
      this.o.unavailable === 'allow' ? allowAll(`${why}: allow all`) : disallowAll(`${why}: disallow all`);
    let url = new URL('/robots.txt', origin);
    for (let hop = 0; ; hop++) {
      let r: FetchResult;
      try {
        r = await this.o.get(url);
      } catch (err) {
        return unavailable(err instanceof Error ? err.message : String(err));
      }
      if (r.status === null || r.failure) return unavailable(`${r.failure ?? 'no response'} (${r.detail ?? ''})`);
      if (r.status >= 300 && r.status < 400 && r.location && hop < MAX_HOPS) {
        try {
          url = new URL(r.location, url);
        } catch {
          return allowAll(`${r.status} to an invalid location: allow all`);
        }
        continue;
      }
      if (r.status >= 200 && r.status < 300) return this.parse(origin, r.body.toString('utf8'), String(r.status));
      if (r.status >= 400 && r.status < 500) return allowAll(`${r.status}: allow all`);
      return unavailable(String(r.status));
    }
  }

  private parse(origin: string, text: string, how: string): RobotsRules {
    const robotsUrl = `${origin}/robots.txt`;
    const robot: Robot = parseRobots(robotsUrl, text);
    const delay = robot.getCrawlDelay(this.o.agent);
    return {
      // robots-parser answers undefined for another origin; the caller only asks about its own
      allowed: (u) => robot.isAllowed(u.href, this.o.agent) !== false,
      crawlDelayMs: delay !== undefined && Number.isFinite(delay) ? Math.max(0, delay * 1000) : undefined,
      origin: how,
    };
  }
}
