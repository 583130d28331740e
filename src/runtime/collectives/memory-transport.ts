// All ranks of a group in one thread, for tests: each link is a queue of copied messages of bounded
// length, and the ring algorithm (ring.ts) runs over it exactly as it does between threads or
// processes, so tests of the trainer exercise the real reduction order.
import { CollectiveError, type Collective } from './collective.ts';
import { ringCollective, type RingOptions } from './ring.ts';
import { rankFailure, Signal, type Transport } from './transport.ts';

/** most unread messages a link holds before `send` waits */
const WINDOW = 4;

interface Link {
  queue: { bytes: Uint8Array; tag: number }[];
  changed: Signal;
}

interface Group {
  worldSize: number;
  links: Link[]; // links[r]: messages from rank r-1 to rank r
  failure?: CollectiveError;
  closed: boolean[];
}

class MemoryTransport implements Transport {
  readonly maxMessageBytes = Number.MAX_SAFE_INTEGER;
  constructor(
    readonly rank: number,
    readonly worldSize: number,
    private readonly group: Group,
  ) {}

  private get right(): number {
    return (this.rank + 1) % this.worldSize;
  }
  private get left(): number {
    return (this.rank - 1 + this.worldSize) % this.worldSize;
  }

  async send(bytes: Uint8Array, tag: number): Promise<void> {
    const link = this.group.links[this.right]!;
    for (;;) {
      this.check();
      if (this.group.closed[this.right]) throw rankFailure(this.right, 'has closed its collective');
      if (link.queue.length < WINDOW) break;
      await link.changed.next();
    }
    link.queue.push({ bytes: bytes.slice(), tag });
    link.changed.notify();
  }

  async recv(use: (bytes: Uint8Array, tag: number) => void): Promise<void> {
    const link = this.group.links[this.rank]!;
    for (;;) {
      this.check();
      if (link.queue.length > 0) break;
      if (this.group.closed[this.left]) throw rankFailure(this.left, 'has closed its collective');
      await link.changed.next();
    }
    const msg = link.queue.shift()!;
    link.changed.notify();
    use(msg.bytes, msg.tag);
  }

  abort(reason: CollectiveError): void {
    this.group.failure ??= reason;
    for (const l of this.group.links) l.changed.notify();
  }

  async close(): Promise<void> {
    this.group.closed[this.rank] = true;
    for (const l of this.group.links) l.changed.notify();
  }

  private check(): void {
    if (this.group.failure) throw this.group.failure;
    if (this.group.closed[this.rank]) throw new CollectiveError(this.rank, `rank ${this.rank}'s collective is closed`);
  }
}

/** `worldSize` collectives, one per rank, connected in one thread: run the ranks' code concurrently
 * (e.g. `Promise.all(group.map((c) => c.allReduce(grads[c.rank])))`). Aborting one aborts all. */
export function memoryGroup(worldSize: number, opts: RingOptions = {}): Collective[] {
  if (!Number.isInteger(worldSize) || worldSize < 1)
    throw new Error(`memoryGroup: worldSize must be an integer >= 1, got ${worldSize}`);
  const group: Group = {
    worldSize,
    links: Array.from({ length: worldSize }, () => ({ queue: [], changed: new Signal() })),
    closed: new Array<boolean>(worldSize).fill(false),
  };
  return Array.from({ length: worldSize }, (_, r) => ringCollective(new MemoryTransport(r, worldSize, group), opts));
}
