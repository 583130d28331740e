// Admission of discovered URLs (links and redirect targets) into the frontier: dedup against the
// seen set, host and scope filters, the frontier bound, the depth limit, the seen set's room. A URL
// met only deeper than maxDepth is marked apart (a second key in the seen set), since it may still
// come at a lower depth: at the end, those never admitted are the "too deep" drops.
import type { OperatorStats } from '../../../src/core/stats.ts';
import type { CrawlCfg } from './config.ts';
import type { Entry, Frontier } from './frontier.ts';
import { normalizeUrl, type LinkFilter } from './url.ts';

export class Admission {
  private deepMarked = 0;
  private deepAdmitted = 0;

  constructor(
    private readonly frontier: Frontier,
    private readonly filter: LinkFilter,
    private readonly cfg: Pick<CrawlCfg, 'maxFrontier' | 'maxDepth' | 'maxRedirects' | 'query'>,
    private readonly stats: OperatorStats,
  ) {}

  /** URLs met only deeper than maxDepth and never admitted at a lower depth. */
  get tooDeep(): number {
    return Math.max(0, this.deepMarked - this.deepAdmitted);
  }

  /** Admit a discovered URL: dedup, filters and frontier bound, depth, then the seen set's room. */
  admit(u: URL, depth: number, referrer: string | null): void {
    const href = u.href;
    const f = this.frontier;
    if (f.known(href)) return;
    const why = this.filter(u) ?? (f.pending >= this.cfg.maxFrontier ? 'frontier full' : undefined);
    if (!why && depth > this.cfg.maxDepth) {
      // marked apart: it may still come at a lower depth; counted as too deep at the end if it does not
      const r = f.claimDeep(href);
      if (r === 'new') this.deepMarked++;
      else if (r === 'full') this.stats.drop('seen set full');
      return;
    }
    if (!this.claim(href)) return;
    if (why) this.stats.drop(why);
    else f.enqueue({ url: href, depth, referrer });
  }

  /** Mark a URL met; false (counted as "seen set full") when the seen set has no room for it. */
  private claim(href: string): boolean {
    const r = this.mark(href);
    if (r === 'full') this.stats.drop('seen set full');
    return r === 'new';
  }

  /** Mark a URL met, noting when it had been met only too deep before. */
  private mark(href: string): 'new' | 'known' | 'full' {
    const r = this.frontier.claim(href);
    if (r === 'new' && this.deepMarked > this.deepAdmitted && this.frontier.knownDeep(href)) this.deepAdmitted++;
    return r;
  }

  /** Queue a redirect's target (first in its origin's queue); a reason when the redirect is not followed. */
  follow(entry: Entry, location: string | undefined): { reason: string; detail: string } | undefined {
    const target = location === undefined ? undefined : normalizeUrl(location, entry.url, this.cfg.query);
    if (!target)
      return {
        reason: 'bad redirect',
        detail: `Location ${location === undefined ? 'missing' : `"${location}" invalid`}`,
      };
    const chain = [...(entry.chain ?? []), entry.url];
    const path = `${chain.join(' -> ')} -> ${target.href}`;
    if (chain.includes(target.href)) return { reason: 'redirect loop', detail: path };
    if (chain.length > this.cfg.maxRedirects)
      return { reason: 'redirect limit', detail: `more than ${this.cfg.maxRedirects} redirects: ${path}` };
    const why = this.filter(target);
    if (why) return { reason: why, detail: `redirect to ${target.href}` };
    if (this.frontier.known(target.href)) return undefined; // an already known target has its own fate
    if (this.mark(target.href) === 'full') return { reason: 'seen set full', detail: `redirect to ${target.href}` };
    this.frontier.enqueue({ url: target.href, depth: entry.depth, referrer: entry.referrer, chain }, true);
    return undefined;
  }
}
