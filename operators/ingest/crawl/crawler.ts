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
// it, the state file is saved when it can be, and the error goes on to the consumer.
import http from 'node:http';
import https from 'node:https';
import type { OperatorContext } from '../../../src/core/context.ts';
import { AddressPolicy } from './address-policy.ts';
import { Admission } from './admission.ts';
import type { CrawlCfg } from './config.ts';
import { fetchPage, type FetchOptions } from './fetch-page.ts';
import { Frontier, loadState, saveState, type Entry, type Host } from './frontier.ts';
import { CrawlReport } from './report.ts';
import { ROBOTS_MAX_BYTES, RobotsCache } from './robots.ts';
import { SeenSet } from './seen-set.ts';
import { linkFilter, normalizeUrl, originOf } from './url.ts';
import { visit, type Outcome, type VisitEnv } from './visit.ts';
import { WarcWriter } from './warc.ts';

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

export class Crawler {
  private readonly frontier: Frontier;
  private readonly policy: AddressPolicy;
  private readonly robots: RobotsCache;
  private readonly stopper = new AbortController();
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  private readonly env: VisitEnv;
  private readonly inFlight = new Map<Entry, Promise<void>>();
  private readonly done: Outcome[] = [];
  private readonly admission: Admission;
  private readonly report: CrawlReport;
  private readonly warc?: WarcWriter;
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
    this.policy = new AddressPolicy(cfg.allowAddresses, cfg.refusePrivate, cfg.connectTimeoutMs);
    const filter = linkFilter(cfg.allowedHosts ?? cfg.seeds.map((s) => new URL(s).host), cfg.scope);
    this.admission = new Admission(this.frontier, filter, cfg, ctx.stats);
    this.report = new CrawlReport(ctx);
    for (const a of Object.values(this.agents)) a.maxSockets = cfg.perHostConcurrency + 1;
    if (cfg.warcPath) this.warc = new WarcWriter(cfg.warcPath, cfg.warcGzip, cfg.userAgent);
    const base: Omit<FetchOptions, 'addresses' | 'agent' | 'signal'> = {
      userAgent: cfg.userAgent,
      connectTimeoutMs: cfg.connectTimeoutMs,
      timeoutMs: cfg.timeoutMs,
      maxBodyBytes: cfg.maxBodyBytes,
      contentTypes: cfg.contentTypes,
      take: (n) => this.take(n),
    };
    this.env = {
      policy: this.policy,
      fetch: base,
      agents: this.agents,
      signal: this.stopper.signal,
      query: cfg.query,
      maxLinks: cfg.maxLinksPerPage,
      warc: this.warc,
    };
    this.robots = new RobotsCache({
      agent: cfg.robotsAgent ?? cfg.userAgent.split('/')[0]!.trim(),
      unavailable: cfg.robotsUnavailable,
      get: async (url) => {
        const addresses = await this.policy.resolve(url.hostname);
        const r = await fetchPage(url, {
          ...base,
          timeoutMs: cfg.robotsTimeoutMs,
          maxBodyBytes: ROBOTS_MAX_BYTES,
          contentTypes: [],
          truncate: true,
          take: undefined,
          addresses,
          agent: url.protocol === 'https:' ? this.agents.https : this.agents.http,
          signal: this.stopper.signal,
        });
        this.warc?.add(r);
        return r;
      },
    });
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
          const row = this.settle(o);
          if (row) yield row;
          if (++this.settled % this.cfg.stateEveryPages === 0 && this.cfg.statePath) await this.save();
          if (this.warc && this.warc.backlog > 64) await this.warc.drain();
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
    if (cfg.statePath) {
      const s = await loadState(cfg.statePath);
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
      if (this.robots.peek(host.origin)?.allowed(new URL(entry.url)) === false) {
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
      const p = visit(entry, this.env)
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
      await this.policy.resolve(new URL(h.origin).hostname);
      if (this.cfg.robots) {
        const rules = await this.robots.load(h.origin);
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

  private settle(o: Outcome): CrawlRow | undefined {
    const { entry } = o;
    if (o.kind === 'aborted') {
      this.frontier.enqueue(entry, true);
      return undefined;
    }
    const row = { url: entry.url, depth: entry.depth, referrer: entry.referrer };
    if (o.kind === 'page') {
      for (const u of o.links) this.admission.admit(u, entry.depth + 1, entry.url);
      if (o.linksOver > 0) this.ctx.stats.drop('page link limit', o.linksOver);
      this.report.page();
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
      const failed = this.admission.follow(entry, o.location);
      if (!failed) {
        this.ctx.stats.drop('redirect');
        return undefined;
      }
      failure = { ...o, kind: 'failed', ...failed };
    }
    if (failure.kind !== 'failed') return undefined;
    this.ctx.stats.drop(failure.reason);
    this.report.failure(entry, failure.reason, failure.detail, failure.status);
    if (!this.cfg.emitErrors) return undefined;
    return {
      ...row,
      text: '',
      status: failure.status,
      contentType: failure.contentType,
      fetchedAt: failure.fetchedAt,
      error: `${failure.reason}: ${failure.detail}`,
    };
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
    return saveState(this.cfg.statePath!, this.frontier.state(open));
  }

  private async close(failed: { error: unknown } | undefined): Promise<void> {
    clearTimeout(this.deadline);
    this.ctx.signal.removeEventListener('abort', this.onCancel);
    const unfinished = this.inFlight.size > 0 || this.done.length > 0 || this.frontier.pending > 0;
    let reason =
      !unfinished && (this.stopReason ?? 'page limit') === 'page limit'
        ? 'complete'
        : (this.stopReason ?? 'stopped by consumer');
    this.stopper.abort(); // in-flight visits of a consumer that stopped early go back to the frontier
    await Promise.all([...this.inFlight.values(), ...this.preparing]);
    for (const o of this.done.splice(0)) this.frontier.enqueue(o.entry, true);
    const deep = this.admission.tooDeep;
    this.ctx.stats.drop('too deep', deep);
    // what was completed is kept even after a fatal error: the WARC records are whole exchanges
    let closing: { error: unknown } | undefined;
    const keep = async (what: () => Promise<unknown>) => {
      try {
        await what();
      } catch (error) {
        closing ??= { error };
      }
    };
    if (this.cfg.statePath) await keep(() => this.save());
    let warcKept: { records: number; path: string } | undefined;
    if (this.warc)
      await keep(async () => {
        warcKept = { path: await this.warc!.commit(), records: this.warc!.records };
      });
    for (const a of Object.values(this.agents)) a.destroy();
    const fatal = failed ?? closing;
    if (fatal) reason = 'failed';
    this.report.summary(reason, {
      requests: this.requests,
      bytes: this.bytes,
      pending: this.frontier.pending,
      tooDeep: deep,
      seen: this.frontier.seen.info(),
    });
    if (fatal) this.report.fatal(fatal.error, warcKept);
    if (!failed && closing) throw closing.error;
  }
}
