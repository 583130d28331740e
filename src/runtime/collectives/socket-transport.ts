// Ring transport between processes over TCP (rendezvous.ts sets the connections up). Flow control is
// by credit: a rank sends at most WINDOW data frames its right neighbour has not yet consumed, so a
// 30 MB all-reduce holds a few segments per link. A lost peer (its connection closes or fails without
// a goodbye) fails this rank at once; it also tells rank 0, which tells everyone, so ranks that are not
// neighbours of the dead one learn of it within moments, and the error names the rank that was lost.
import { CollectiveError, localCollective, type Collective } from './collective.ts';
import type { Conn, Ended } from './connection.ts';
import { FrameType, encodeFrame, parseControl, type Frame } from './frames.ts';
import { rendezvous } from './rendezvous.ts';
import { ringCollective, type RingOptions } from './ring.ts';
import { rankFailure, Signal, type Transport } from './transport.ts';

export interface SocketCollectiveOptions extends RingOptions {
  rank: number;
  worldSize: number;
  /** where rank 0 listens (torchrun's MASTER_ADDR / MASTER_PORT) */
  master: { host: string; port: number };
  /** how long the rendezvous may take, ms (default 60 000) */
  timeoutMs?: number;
  /** rank 0: called once it listens, with the actual port (pass master.port 0 for an ephemeral one) */
  onListening?: (address: { host: string; port: number }) => void;
}

/** unconsumed data frames a sender may have in flight to its right neighbour */
const WINDOW = 4;
// A rank that exits because the group failed first tells the others why, on its control connection;
// its ring connections may be seen closing before that news is read (another socket, no order between
// them), which would blame the messenger. A lost connection is reported after this long, unless a
// failure report arrives first.
const LOST_GRACE_MS = 200;
const ACK = encodeFrame(FrameType.Ack);

class SocketTransport implements Transport {
  readonly maxMessageBytes = 64 << 20;
  private credits = WINDOW;
  private readonly inbox: Frame[] = [];
  private readonly changed = new Signal();
  private failure?: CollectiveError;
  private closing = false;
  private leftClosed = false;
  private rightClosed = false;
  private readonly left: number;
  private readonly right: number;

  constructor(
    readonly rank: number,
    readonly worldSize: number,
    private readonly links: { right: Conn; left: Conn; control: Map<number, Conn> },
  ) {
    this.left = (rank - 1 + worldSize) % worldSize;
    this.right = (rank + 1) % worldSize;
    links.left.onFrame((f) => {
      if (f.type === FrameType.Data) {
        this.inbox.push(f);
        this.changed.notify();
      } else this.onControl(f, this.left);
    });
    links.right.onFrame((f) => {
      if (f.type === FrameType.Ack) {
        this.credits++;
        this.changed.notify();
      } else this.onControl(f, this.right);
    });
    links.left.onEnd((e) => {
      if (e.clean) {
        this.leftClosed = true;
        this.changed.notify();
      } else this.lost(this.left, e);
    });
    links.right.onEnd((e) => {
      if (e.clean) {
        this.rightClosed = true;
        this.changed.notify();
      } else this.lost(this.right, e);
    });
    for (const [peer, conn] of links.control) {
      conn.onFrame((f) => this.onControl(f, peer));
      conn.onEnd((e) => {
        if (!e.clean) this.lost(peer, e);
      });
    }
  }

  async send(bytes: Uint8Array, tag: number): Promise<void> {
    for (;;) {
      this.check();
      if (this.rightClosed) throw rankFailure(this.right, 'has closed its collective');
      if (this.credits > 0) break;
      await this.changed.next();
    }
    this.credits--;
    // copied into the frame, so `bytes` may change as soon as this resolves: waiting instead for the
    // socket to hand them to the kernel stalls the next segment (it measured slower)
    this.links.right.write(encodeFrame(FrameType.Data, bytes, tag));
  }

  async recv(use: (bytes: Uint8Array, tag: number) => void): Promise<void> {
    for (;;) {
      this.check();
      if (this.inbox.length > 0) break;
      if (this.leftClosed) throw rankFailure(this.left, 'has closed its collective');
      await this.changed.next();
    }
    const msg = this.inbox.shift()!;
    this.links.left.write(ACK);
    use(msg.payload, msg.tag);
  }

  abort(reason: CollectiveError): void {
    if (this.fail(reason)) this.announce(reason);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.changed.notify();
    await Promise.all(this.conns().map((c) => c.close()));
  }

  private conns(): Conn[] {
    return [...new Set([this.links.right, this.links.left, ...this.links.control.values()])];
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.closing) throw new CollectiveError(this.rank, `rank ${this.rank}'s collective is closed`);
  }

  /** Records the group's failure (the first one wins); true if this was it. */
  private fail(err: CollectiveError): boolean {
    if (this.failure || this.closing) return false;
    this.failure = err;
    this.changed.notify();
    // a failed group must not keep the process alive (a rank that throws may not call close());
    // the sockets stay open so the failure still reaches the others first (pending writes finish)
    for (const c of this.conns()) c.socket.unref();
    return true;
  }

  /** Tells the others: rank 0 tells every rank, any other rank tells rank 0 (which passes it on). */
  private announce(err: CollectiveError, except?: number): void {
    const msg = { t: 'failed', rank: err.failedRank ?? null, message: err.message };
    for (const [peer, conn] of this.links.control) if (peer !== except) conn.control(msg);
  }

  private lost(peer: number, e: Ended): void {
    if (this.failure || this.closing) return;
    setTimeout(() => {
      const err = rankFailure(peer, `was lost (${e.why})`);
      if (this.fail(err)) this.announce(err, peer);
    }, LOST_GRACE_MS);
  }

  private onControl(f: Frame, from: number): void {
    const m = f.type === FrameType.Control ? parseControl(f.payload) : undefined;
    if (m?.t !== 'failed' || typeof m.message !== 'string') return;
    const err = new CollectiveError(typeof m.rank === 'number' ? m.rank : undefined, m.message);
    if (this.fail(err) && this.rank === 0) this.announce(err, from);
  }
}

/** This process's rank of a TCP group: resolves once every rank has joined (all call it with the
 * same worldSize and master). Rejects with a CollectiveError if the rendezvous times out. */
export async function socketCollective(o: SocketCollectiveOptions): Promise<Collective> {
  const { rank, worldSize } = o;
  if (!Number.isInteger(worldSize) || worldSize < 1)
    throw new Error(`socketCollective: worldSize must be an integer >= 1, got ${worldSize}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize)
    throw new Error(`socketCollective: rank must be an integer in [0, ${worldSize}), got ${rank}`);
  if (!Number.isInteger(o.master.port) || o.master.port < 0 || o.master.port > 65535)
    throw new Error(`socketCollective: master port must be in [0, 65535], got ${o.master.port}`);
  if (worldSize === 1) {
    o.onListening?.({ ...o.master });
    return localCollective();
  }
  const links = await rendezvous({
    rank,
    worldSize,
    master: o.master,
    timeoutMs: o.timeoutMs ?? 60_000,
    onListening: o.onListening,
  });
  return ringCollective(new SocketTransport(rank, worldSize, links), o);
}
