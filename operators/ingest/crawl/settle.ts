// A finished visit's fate: a page becomes a row and its links are admitted; a redirect queues its
// target (or fails when it is not followed); a failure is counted and reported, and becomes an error
// row with emitErrors; a visit the crawl itself aborted goes back to the front of its origin's queue.
import type { OperatorStats } from '../../../src/core/stats.ts';
import type { Admission } from './admission.ts';
import type { Frontier } from './frontier.ts';
import type { CrawlReport } from './report.ts';
import type { Outcome } from './visit.ts';

export interface CrawlRow {
  url: string;
  text: string;
  status: number | null;
  contentType: string | null;
  depth: number;
  referrer: string | null;
  fetchedAt: Date | null;
  error: string | null;
}
/** 'idle': the crawler is about to wait for the network (the operator may flush a partial batch). */
export type CrawlItem = CrawlRow | 'idle';

export interface Settling {
  frontier: Frontier;
  admission: Admission;
  report: CrawlReport;
  stats: OperatorStats;
  emitErrors: boolean;
}

export function settle(o: Outcome, s: Settling): CrawlRow | undefined {
  const { entry } = o;
  if (o.kind === 'aborted') {
    s.frontier.enqueue(entry, true);
    return undefined;
  }
  const row = { url: entry.url, depth: entry.depth, referrer: entry.referrer };
  if (o.kind === 'page') {
    for (const u of o.links) s.admission.admit(u, entry.depth + 1, entry.url);
    if (o.linksOver > 0) s.stats.drop('page link limit', o.linksOver);
    s.report.page();
    return {
      ...row,
      text: o.text,
      status: o.status,
      contentType: o.contentType,
      fetchedAt: o.fetchedAt,
      error: null,
    };
  }
  let failure: Outcome = o;
  if (o.kind === 'redirect') {
    const failed = s.admission.follow(entry, o.location);
    if (!failed) {
      s.stats.drop('redirect');
      return undefined;
    }
    failure = { ...o, kind: 'failed', ...failed };
  }
  if (failure.kind !== 'failed') return undefined;
  s.stats.drop(failure.reason);
  s.report.failure(entry, failure.reason, failure.detail, failure.status);
  if (!s.emitErrors) return undefined;
  return {
    ...row,
    text: '',
    status: failure.status,
    contentType: failure.contentType,
    fetchedAt: failure.fetchedAt,
    error: `${failure.reason}: ${failure.detail}`,
  };
}
