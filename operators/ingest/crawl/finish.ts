// How a crawl ends, once no visit is in flight any more: the frontier state is saved and the WARC file
// committed even after a fatal error (its records are whole exchanges, worth keeping), the sockets are
// closed, the summary is logged, and a fatal error is reported as one with its causes and what was kept.
import type { OperatorContext } from '../../../src/core/context.ts';
import type { Admission } from './admission.ts';
import type { Frontier } from './frontier.ts';
import type { Network } from './network.ts';
import type { CrawlReport } from './report.ts';

export interface Ending {
  ctx: OperatorContext;
  frontier: Frontier;
  admission: Admission;
  report: CrawlReport;
  net: Pick<Network, 'agents' | 'warc'>;
  /** saves the frontier state (when the crawl has a statePath) */
  save?: () => Promise<void>;
  requests: number;
  bytes: number;
}

/**
 * The word the summary gives for the end: 'complete' when nothing is left (a page limit met exactly
 * as the work ran out is still complete), else the stop reason, or 'stopped by consumer' when the
 * consumer stopped pulling.
 */
export function endReason(stopReason: string | undefined, unfinished: boolean): string {
  return !unfinished && (stopReason ?? 'page limit') === 'page limit'
    ? 'complete'
    : (stopReason ?? 'stopped by consumer');
}

/**
 * Finish a run that ended for `reason`, or failed with `failed`. An error of the finishing itself
 * (the state or the WARC file cannot be written) is fatal too: reported, and thrown when the run had
 * no error of its own (that one is already on its way to the consumer).
 */
export async function finish(e: Ending, reason: string, failed: { error: unknown } | undefined): Promise<void> {
  const deep = e.admission.tooDeep;
  e.ctx.stats.drop('too deep', deep);
  let closing: { error: unknown } | undefined;
  const keep = async (what: () => Promise<unknown>) => {
    try {
      await what();
    } catch (error) {
      closing ??= { error };
    }
  };
  if (e.save) await keep(e.save);
  let warcKept: { records: number; path: string } | undefined;
  const { warc } = e.net;
  if (warc)
    await keep(async () => {
      warcKept = { path: await warc.commit(), records: warc.records };
    });
  for (const a of Object.values(e.net.agents)) a.destroy();
  const fatal = failed ?? closing;
  e.report.summary(fatal ? 'failed' : reason, {
    requests: e.requests,
    bytes: e.bytes,
    pending: e.frontier.pending,
    tooDeep: deep,
    seen: e.frontier.seen.info(),
  });
  if (fatal) e.report.fatal(fatal.error, warcKept);
  if (!failed && closing) throw closing.error;
}
