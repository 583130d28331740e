// The crawl loop. It starts visits while the global and per-origin concurrency, politeness delays and
// limits allow, and hands each finished visit to its consumer one at a time. It only starts new
// requests while the consumer pulls, so at most `concurrency` fetched pages wait in memory.
//
// Every distinct URL discovered meets exactly one fate: an output row (a page), a drop with a reason
// (ctx.stats: "http 404", "timeout", "robots", "off-site", "redirect", ...; with emitErrors the visited
// ones also appear as error rows), or it stays pending in the frontier when a limit ends the run.
// Exceptions: links past maxLinksPerPage on a page and URLs met once the seen set is full are dropped
// without being remembered, so they are counted per occurrence.
//
// Memory: the seen set has the stated bound seenMemoryMB (seen-set.ts); pending URLs are capped by
// maxFrontier and fetched pages by concurrency.
//
// A fatal error (one that is no URL's fate: a state file that cannot be written, a bug) ends the run:
// it is logged as "crawl failed" with its causes, the WARC file keeps the exchanges completed before
// it, the state file is saved when it can be, and the error goes on to the consumer (finish.ts).
//
// Elsewhere: the network side (network.ts), a visit's fate (settle.ts), admission of links (admission.ts).
import type { OperatorContext } from '../../../src/core/context.ts';
import { Admission } from './admission.ts';
import type { CrawlCfg } from './config.ts';
import { endReason, finish } from './finish.ts';
import { Frontier, type Entry, type Host } from './frontier.ts';
import { openNetwork, type Network } from './network.ts';
import { CrawlReport } from './report.ts';
import { SeenSet } from './seen-set.ts';
import { settle, type CrawlItem, type Settling } from './settle.ts';
import { StateFile } from './state-file.ts';
import { linkFilter, normalizeUrl, originOf } from './url.ts';
import { visit, type Outcome } from './visit.ts';

export type { CrawlItem, CrawlRow } from './settle.ts';

export class Crawler {
  private readonly frontier: Frontier;
  private readonly stopper = new AbortController();
  private readonly net: Network;
  private readonly inFlight = new Map<Entry, Promise<void>>();
  private readonly done: Outcome[] = [];
  private readonly admission: Admission;
  private readonly report: CrawlReport;
  private readonly settling: Settling;
  private readonly state?: StateFile;
  private readonly preparing = new Set<Promise<void>>();
  private readonly onCancel = () => this.stop('cancelled');
  private deadline?: NodeJS.Timeout;
  private waiter?: () => void;
  private stopReason?: string;
  private requests = 0;
  private bytes = 0;
  private settled = 0;

  constructor(
    private readonly cfg: CrawlCfg,
    private readonly ctx: OperatorContext,
  ) {
    this.frontier = new Frontier(
      (u) => originOf(new URL(u)),
      new SeenSet(cfg.seenMemoryMB * 2 ** 20, cfg.seenFalsePositive),
    );
    if (cfg.statePath) this.state = new StateFile(cfg.statePath);
    this.net = openNetwork(cfg, (n) => this.take(n), this.stopper.signal);
    const filter = linkFilter(cfg.allowedHosts ?? cfg.seeds.map((s) => new URL(s).host), cfg.scope);
    this.admission = new Admission(this.frontier, filter, cfg, ctx.stats);
    this.report = new CrawlReport(ctx);
    this.settling = {
      frontier: this.frontier,
      admission: this.admission,
      report: this.report,
      stats: ctx.stats,
      emitErrors: cfg.emitErrors,
    };
  }

  async *run(): AsyncGenerator<CrawlItem> {
    let failed: { error: unknown } | undefined;
    let idle = false;
    try {
      await this.open();
      for (;;) {
        this.launch();
        const o = this.done.shift();
        if (o) {
          idle = false;
          const row = settle(o, this.settling);
          if (row) yield row;
          if (++this.settled % this.cfg.stateEveryPages === 0 && this.state) await this.save();
          if (this.net.warc && this.net.warc.backlog > 64) await this.net.warc.drain();
          continue;
        }
        if (this.inFlight.size === 0 && (this.stopReason !== undefined || this.frontier.pending === 0)) break;
        if (!idle) {
          idle = true;
          yield 'idle';
          continue;
        }
        idle = false;
        await this.sleep(this.inFlight.size === 0 ? this.untilNextReady() : undefined);
      }
    } catch (error) {
      failed = { error };
      throw error;
    } finally {
      await this.close(failed);
    }
  }

  private async open(): Promise<void> {
    const { cfg, ctx } = this;
    if (this.state) {
      const s = await this.state.load();
      if (s) {
        this.frontier.restore(s);
        ctx.log(`resumed ${cfg.statePath}: ${s.pending.length} pending, ${this.frontier.seen.size} seen`);
      }
    }
    for (const s of cfg.seeds) this.admission.admit(normalizeUrl(s, undefined, cfg.query)!, 0, null);
    if (cfg.maxTimeMs !== undefined) this.deadline = setTimeout(() => this.stop('time limit'), cfg.maxTimeMs);
    ctx.signal.addEventListener('abort', this.onCancel, { once: true });
    if (ctx.signal.aborted) this.stop('cancelled');
  }

  private stop(reason: string): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = reason;
    if (reason !== 'page limit') this.stopper.abort();
    this.wake();
  }

  /** Byte budget shared by all responses: false (and the crawl stops) once maxBytes would be passed. */
  private take(n: number): boolean {
    if (this.cfg.maxBytes !== undefined && this.bytes + n > this.cfg.maxBytes) {
      this.stop('byte limit');
      return false;
    }
    this.bytes += n;
    return true;
  }

  private launch(): void {
    const { cfg } = this;
    while (this.stopReason === undefined && this.inFlight.size < cfg.concurrency) {
      if (cfg.maxPages !== undefined && this.requests >= cfg.maxPages) {
        this.stop('page limit');
        return;
      }
      const now = performance.now();
      const got = this.frontier.take((h) => this.hostReady(h, now));
      if (!got) return;
      const { entry, host } = got;
      if (this.net.robots.peek(host.origin)?.allowed(new URL(entry.url)) === false) {
        this.done.push({
          kind: 'failed',
          entry,
          reason: 'robots',
          detail: 'disallowed by robots.txt',
          status: null,
          contentType: null,
          fetchedAt: null,
        });
        continue;
      }
      host.active++;
      host.nextAt = now + host.delayMs;
      this.requests++;
      const p = visit(entry, this.net.env)
        .catch(
          (err: unknown): Outcome => ({
            kind: 'failed',
            entry,
            reason: 'error',
            detail: String(err),
            status: null,
            contentType: null,
            fetchedAt: null,
          }),
        )
        .then((o) => {
          host.active--;
          this.inFlight.delete(entry);
          this.done.push(o);
          this.wake();
        });
      this.inFlight.set(entry, p);
    }
  }

  /** May the origin start a request now? The first time, resolve its address and load its robots.txt. */
  private hostReady(h: Host, now: number): boolean {
    if (h.robots === 'unknown') {
      h.robots = 'loading';
      const p = this.prepare(h).finally(() => this.preparing.delete(p));
      this.preparing.add(p);
      return false;
    }
    return h.robots === 'ready' && h.active < this.cfg.perHostConcurrency && now >= h.nextAt;
  }

  private async prepare(h: Host): Promise<void> {
    let crawlDelayMs = 0;
    try {
      await this.net.policy.resolve(new URL(h.origin).hostname);
      if (this.cfg.robots) {
        const rules = await this.net.robots.load(h.origin);
        crawlDelayMs = Math.min(rules.crawlDelayMs ?? 0, this.cfg.maxCrawlDelayMs);
        this.ctx.log(
          `robots.txt of ${h.origin}: ${rules.origin}${rules.crawlDelayMs ? `, Crawl-delay ${rules.crawlDelayMs} ms` : ''}`,
        );
      }
    } catch {
      /* refused or unresolvable: each visit reports it; nothing was sent */
    }
    h.delayMs = this.cfg.politeness ? Math.max(this.cfg.delayMs, crawlDelayMs) : 0;
    h.robots = 'ready';
    this.wake();
  }

  private untilNextReady(): number | undefined {
    const t = this.frontier.nextReadyAt();
    return t === undefined ? undefined : Math.max(1, t - performance.now());
  }

  private sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.wake(), ms);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private save(): Promise<void> {
    const open = [...this.inFlight.keys(), ...this.done.map((o) => o.entry)];
    return this.state!.save(this.frontier.state(open));
  }

  private async close(failed: { error: unknown } | undefined): Promise<void> {
    clearTimeout(this.deadline);
    this.ctx.signal.removeEventListener('abort', this.onCancel);
    const unfinished = this.inFlight.size > 0 || this.done.length > 0 || this.frontier.pending > 0;
    const reason = endReason(this.stopReason, unfinished);
    this.stopper.abort(); // in-flight visits of a consumer that stopped early go back to the frontier
    await Promise.all([...this.inFlight.values(), ...this.preparing]);
    for (const o of this.done.splice(0)) this.frontier.enqueue(o.entry, true);
    const { ctx, frontier, admission, report, net, requests, bytes } = this;
    // a state file that could not be read is left as it is, not replaced by this run's few seeds
    const save = this.state?.loaded ? () => this.save() : undefined;
    await finish({ ctx, frontier, admission, report, net, save, requests, bytes }, reason, failed);
  }
}
