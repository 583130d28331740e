// What a crawl tells its operator in ctx.log: failures by reason and the broken links (4xx/5xx) with the
// page that linked them, so a site's owner can fix them. Counting for stats happens in ctx.stats.
import type { OperatorContext } from '../../../src/core/context.ts';
import type { Entry } from './frontier.ts';
import type { SeenSetInfo } from './seen-set.ts';

const LISTED = 20;

export interface BrokenLink {
  url: string;
  status: number;
  referrer: string | null;
}

export class CrawlReport {
  pages = 0;
  readonly failures = new Map<string, number>();
  readonly broken: BrokenLink[] = [];
  private brokenCount = 0;
  private readonly t0 = performance.now();

  constructor(private readonly ctx: OperatorContext) {}

  page(): void {
    this.pages++;
  }

  failure(entry: Entry, reason: string, detail: string, status: number | null): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
    if (status !== null && status >= 400) {
      this.brokenCount++;
      if (this.broken.length < LISTED) this.broken.push({ url: entry.url, status, referrer: entry.referrer });
    } else if (reason !== 'robots' && (this.failures.get(reason) ?? 0) <= 3) {
      this.ctx.log(`${reason}: ${entry.url}${detail ? ` (${detail})` : ''}`);
    }
  }

  summary(
    stop: string,
    f: { requests: number; bytes: number; pending: number; tooDeep: number; seen: SeenSetInfo },
  ): void {
    const secs = (performance.now() - this.t0) / 1000;
    const reasons = [...this.failures].map(([r, n]) => `${r} ${n}`).join(', ') || 'none';
    this.ctx.log(
      `crawl ${stop} after ${secs.toFixed(1)} s: ${this.pages} pages, ${f.requests} requests, ` +
        `${(f.bytes / 1e6).toFixed(2)} MB; failed: ${reasons}; ${f.pending} pending; ${f.tooDeep} links too deep`,
    );
    const { seen } = f;
    this.ctx.log(
      `seen set: ${seen.n} URLs in ${mb(seen.bytes)} MB (bound ${mb(seen.bound)} MB, ${seen.mode}); estimated ` +
        `false-positive rate ${seen.falsePositiveRate.toExponential(2)} (stated ${seen.statedRate}, at most ` +
        `${seen.capacity} URLs)`,
    );
    this.ctx.stats.count('seen set urls', seen.n);
    this.ctx.stats.count('seen set bytes', seen.bytes);
    if (this.brokenCount > 0) {
      const more = this.brokenCount > this.broken.length ? ` (first ${this.broken.length} listed)` : '';
      this.ctx.log(
        `${this.brokenCount} broken links${more}:\n` +
          this.broken.map((b) => `  ${b.status} ${b.url}${b.referrer ? ` <- ${b.referrer}` : ''}`).join('\n'),
      );
    }
  }

  /** A fatal error: what it was, with its chain of causes, and what was kept. */
  fatal(error: unknown, warc: { records: number; path: string } | undefined): void {
    const chain: string[] = [];
    for (let e: unknown = error, i = 0; e !== undefined && i < 8; i++) {
      chain.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      e = e instanceof Error ? e.cause : undefined;
    }
    this.ctx.log(
      `crawl failed with a fatal error: ${chain.join('; caused by ')}` +
        (warc ? `; the WARC file keeps the ${warc.records} records written before it (${warc.path})` : ''),
    );
  }
}

const mb = (n: number) => (n / 2 ** 20).toFixed(2);
