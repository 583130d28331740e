// The frontier: URLs waiting to be visited, one FIFO per origin (breadth-first within an origin,
// round-robin across origins), and the set of every URL ever met (seen-set.ts: hashes in a stated
// memory bound), so that each URL is fetched at most once. Its state (pending and the seen set) is
// saved and resumed by state-file.ts.
import { SeenSet, type SeenSnapshot } from './seen-set.ts';
import { hashUrl, variantOf, type Hash64 } from './url-hash.ts';

export interface Entry {
  url: string;
  depth: number;
  /** the page that linked here (null for seeds) */
  referrer: string | null;
  /** earlier URLs of a redirect chain that led here, first = the URL originally linked */
  chain?: string[];
}

/** An origin's queue and its politeness state. */
export class Host {
  private items: Entry[] = [];
  private head = 0;
  active = 0;
  /** earliest time (ms, performance.now) the next request may start */
  nextAt = 0;
  delayMs = 0;
  robots: 'unknown' | 'loading' | 'ready' = 'unknown';
  constructor(readonly origin: string) {}
  get size(): number {
    return this.items.length - this.head;
  }
  push(e: Entry): void {
    this.items.push(e);
  }
  unshift(e: Entry): void {
    if (this.head > 0) this.items[--this.head] = e;
    else this.items.unshift(e);
  }
  peek(): Entry | undefined {
    return this.items[this.head];
  }
  shift(): Entry | undefined {
    const e = this.items[this.head];
    if (e === undefined) return undefined;
    this.items[this.head++] = undefined as unknown as Entry; // release for GC
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return e;
  }
  entries(): Entry[] {
    return this.items.slice(this.head);
  }
}

export interface FrontierState {
  /** URLs admitted but not visited yet (including those in flight when saved) */
  pending: Entry[];
  /** every URL admitted or given a fate (pending ones included); a list of URLs in the first format */
  seen: SeenSnapshot | string[];
}

export class Frontier {
  readonly hosts = new Map<string, Host>();
  private order: Host[] = [];
  private rr = 0;
  private readonly h: Hash64 = { hi: 0, lo: 0 };
  private readonly v: Hash64 = { hi: 0, lo: 0 };
  pending = 0;

  constructor(
    private readonly originOf: (url: string) => string,
    readonly seen: SeenSet = new SeenSet(64 * 2 ** 20, 1e-6),
  ) {}

  /** Was the URL met (admitted or given a fate)? */
  known(url: string): boolean {
    return this.seen.has(hashUrl(url, this.h));
  }

  /** Mark a URL met: 'new', 'known' (already was), or 'full' (the seen set holds no more; not marked). */
  claim(url: string): 'new' | 'known' | 'full' {
    return this.seen.add(hashUrl(url, this.h));
  }

  /** Mark a URL met only deeper than the depth limit (it may still come at a lower depth). */
  claimDeep(url: string): 'new' | 'known' | 'full' {
    return this.seen.add(variantOf(hashUrl(url, this.h), this.v));
  }

  /** Was the URL marked by claimDeep? */
  knownDeep(url: string): boolean {
    return this.seen.has(variantOf(hashUrl(url, this.h), this.v));
  }

  host(origin: string): Host {
    let h = this.hosts.get(origin);
    if (!h) {
      h = new Host(origin);
      this.hosts.set(origin, h);
      this.order.push(h);
    }
    return h;
  }

  /** Queue an entry (already claimed); `front` puts it first in its origin's queue (redirect hops, requeues). */
  enqueue(e: Entry, front = false): void {
    const h = this.host(this.originOf(e.url));
    if (front) h.unshift(e);
    else h.push(e);
    this.pending++;
  }

  /**
   * Remove and return the next entry of the first origin (round-robin) for which `ready` says yes.
   * `ready` sees the origin's state and may start its robots.txt fetch.
   */
  take(ready: (h: Host) => boolean): { entry: Entry; host: Host } | undefined {
    const n = this.order.length;
    for (let i = 0; i < n; i++) {
      const h = this.order[(this.rr + i) % n]!;
      if (h.size === 0 || !ready(h)) continue;
      this.rr = (this.rr + i + 1) % n;
      this.pending--;
      return { entry: h.shift()!, host: h };
    }
    return undefined;
  }

  /** Earliest nextAt among origins with queued entries that wait only for their delay. */
  nextReadyAt(): number | undefined {
    let t: number | undefined;
    for (const h of this.order)
      if (h.size > 0 && h.robots === 'ready') t = t === undefined ? h.nextAt : Math.min(t, h.nextAt);
    return t;
  }

  /** Pending entries (those given first: in flight) and the seen set, to be saved. */
  state(inFlight: Iterable<Entry>): FrontierState & { seen: SeenSnapshot } {
    const pending = [...inFlight];
    for (const h of this.order) pending.push(...h.entries());
    return { pending, seen: this.seen.snapshot() };
  }

  restore(s: FrontierState): void {
    if (Array.isArray(s.seen)) for (const u of s.seen) this.claim(u);
    else this.seen.restore(s.seen);
    for (const e of s.pending) {
      this.claim(e.url);
      this.enqueue(e);
    }
  }
}
