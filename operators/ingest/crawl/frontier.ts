// The frontier: URLs waiting to be visited, one FIFO per origin (breadth-first within an origin,
// round-robin across origins), and the set of every URL ever met (seen-set.ts: hashes in a stated
// memory bound), so that each URL is fetched at most once. Its state (pending and the seen set) can be
// saved to JSON and resumed; a version 1 file (seen as a list of URLs) is still read.
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AtomicFile } from '../../../src/runtime/files.ts';
import { SeenSet, type SeenSetSaved } from './seen-set.ts';
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
  version: 2;
  /** URLs admitted but not visited yet (including those in flight when saved) */
  pending: Entry[];
  /** every URL admitted or given a fate (pending ones included) */
  seen: SeenSetSaved;
}

/** The first format: seen URLs listed as strings. */
interface FrontierStateV1 {
  version: 1;
  pending: Entry[];
  seen: string[];
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

  state(inFlight: Iterable<Entry>): FrontierState {
    const pending = [...inFlight];
    for (const h of this.order) pending.push(...h.entries());
    return { version: 2, pending, seen: this.seen.save() };
  }

  restore(s: FrontierState | FrontierStateV1): void {
    if (s.version === 1) for (const u of s.seen) this.claim(u);
    else this.seen.restore(s.seen);
    for (const e of s.pending) {
      this.claim(e.url);
      this.enqueue(e);
    }
  }
}

export async function loadState(path: string): Promise<FrontierState | FrontierStateV1 | undefined> {
  if (!existsSync(path)) return undefined;
  const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
  const s = parsed as Partial<FrontierState> | Partial<FrontierStateV1> | null;
  const seenOk =
    s?.version === 1
      ? Array.isArray(s.seen)
      : s?.version === 2 && typeof s.seen === 'object' && s.seen !== null && typeof s.seen.data === 'string';
  if (!s || !seenOk || !Array.isArray(s.pending)) {
    throw new Error(
      `${path}: not a flowlm crawl state (version 1 or 2 with pending and seen); delete it or point statePath elsewhere`,
    );
  }
  return s as FrontierState | FrontierStateV1;
}

export async function saveState(path: string, s: FrontierState): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const f = new AtomicFile(path);
  try {
    await f.write(JSON.stringify(s));
    await f.commit();
  } catch (err) {
    await f.abort();
    throw err;
  }
}
