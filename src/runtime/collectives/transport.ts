// What the ring algorithm (ring.ts) needs from whatever carries the bytes: an ordered stream of
// messages to the right neighbour ((rank + 1) % worldSize) and from the left one, with bounded
// buffering, and a shared failure state. Transports: memory-transport.ts (one thread),
// thread-transport.ts (SharedArrayBuffer between worker threads), socket-transport.ts (TCP).
import { CollectiveError } from './collective.ts';

export interface Transport {
  readonly rank: number;
  readonly worldSize: number;
  /** Largest message `send` accepts, in bytes. */
  readonly maxMessageBytes: number;
  /** Queues one message to the right neighbour, with a 32-bit `tag` the receiver gets with it.
   * Resolves once `bytes` may be changed again (the transport copied or sent them); waits while the
   * receiver holds too many unread messages, so memory stays bounded. Rejects with a CollectiveError
   * once the group has failed. */
  send(bytes: Uint8Array, tag: number): Promise<void>;
  /** Takes the next message from the left neighbour and passes it to `use`; the view is valid only
   * during that call (it may be shared memory the sender reuses next). `use` may throw: the error
   * then rejects `recv`. */
  recv(use: (bytes: Uint8Array, tag: number) => void): Promise<void>;
  /** Fails this rank's pending and later send/recv with `reason` and tells the other ranks. */
  abort(reason: CollectiveError): void;
  /** Clean shutdown: peers do not report it as a failure. */
  close(): Promise<void>;
}

/** A failure of rank `rank`, phrased so an operation name can follow ("... during allReduce"). */
export function rankFailure(rank: number, what: string, cause?: unknown): CollectiveError {
  return new CollectiveError(rank, `rank ${rank} ${what}`, cause === undefined ? undefined : { cause });
}

/** The error `abort(reason)` spreads: `reason` itself if it already names a rank, else one naming
 * the aborting rank. */
export function abortFailure(rank: number, reason: Error): CollectiveError {
  if (reason instanceof CollectiveError) return reason;
  return rankFailure(rank, `aborted the group (${reason.message})`, reason);
}

const DURING = / during [A-Za-z]+$/;

/** The error an operation rejects with: the failure, naming the operation it interrupted. */
export function duringOperation(err: unknown, op: string): CollectiveError {
  if (err instanceof CollectiveError) {
    if (DURING.test(err.message)) return err;
    return new CollectiveError(err.failedRank, `${err.message} during ${op}`, { cause: err });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new CollectiveError(undefined, `${op} failed: ${msg}`, { cause: err });
}

/** Wakes everything waiting for a state change (in one thread): `await signal.next()` then re-check. */
export class Signal {
  private waiters: (() => void)[] = [];
  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }
}
