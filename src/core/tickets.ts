// Backpressure bookkeeping (DESIGN.md §4). A source may have at most `maxInFlight` batches and
// `maxInFlightBytes` bytes between itself and the sinks. Each batch it emits gets a reference-counted
// ticket; the helpers pass tickets from inputs to outputs, and a drop, a sink write or absorption into
// bounded operator state releases them. When a ticket's count reaches zero its credit returns.
import type { RecordBatch } from 'apache-arrow';

export interface Budget {
  maxInFlight: number;
  maxInFlightBytes: number;
}
export const DEFAULT_BUDGET: Budget = { maxInFlight: 8, maxInFlightBytes: 256 * 1024 * 1024 };

export class Ticket {
  refs = 1;
  constructor(
    readonly ledger: Ledger,
    readonly bytes: number,
  ) {}
}

/** The credits of one source. */
export class Ledger {
  inFlight = 0;
  inFlightBytes = 0;
  /** highest number of batches in flight ever seen: what the backpressure bench reports */
  peakInFlight = 0;
  peakInFlightBytes = 0;
  private waiters: Array<() => void> = [];

  constructor(
    readonly name: string,
    readonly budget: Budget = DEFAULT_BUDGET,
  ) {
    if (budget.maxInFlight < 1) throw new Error(`source ${name}: maxInFlight must be >= 1`);
  }

  /** True when the source may pull one more batch. The byte budget lets one batch through when empty. */
  get hasCredit(): boolean {
    return (
      this.inFlight < this.budget.maxInFlight &&
      (this.inFlight === 0 || this.inFlightBytes < this.budget.maxInFlightBytes)
    );
  }

  /** Resolves when the source may pull its next batch. */
  acquire(): Promise<void> | undefined {
    if (this.hasCredit) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  issue(bytes: number): Ticket {
    this.inFlight++;
    this.inFlightBytes += bytes;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    if (this.inFlightBytes > this.peakInFlightBytes) this.peakInFlightBytes = this.inFlightBytes;
    return new Ticket(this, bytes);
  }

  /** A ticket's last reference went: give its credit back and wake the source. */
  settle(t: Ticket): void {
    this.inFlight--;
    this.inFlightBytes -= t.bytes;
    while (this.waiters.length > 0 && this.hasCredit) this.waiters.shift()!();
  }
}

const NONE: readonly Ticket[] = Object.freeze([]);
const held = new WeakMap<object, readonly Ticket[]>();

/** The tickets a batch carries (none outside a flowlm run). */
export function ticketsOf(batch: RecordBatch | object): readonly Ticket[] {
  return held.get(batch) ?? NONE;
}

/** Give `batch` the tickets (one reference each, already counted by the caller). */
export function attach(batch: object, tickets: readonly Ticket[]): void {
  if (tickets.length === 0) return;
  const prev = held.get(batch);
  held.set(batch, prev && prev.length > 0 ? [...prev, ...tickets] : tickets);
}

/** 1:1: the output carries the input's references (no count change). */
export function pass(from: object, to: object): void {
  if (from !== to) attach(to, ticketsOf(from));
}

/** Add `n` references to each ticket (a split into n+1 pieces, or fan-out to n+1 consumers). */
export function retain(tickets: readonly Ticket[], n = 1): void {
  if (n <= 0) return;
  for (const t of tickets) t.refs += n;
}

/** Drop one reference to each ticket (a drop, a sink write, absorption into declared state). */
export function release(tickets: readonly Ticket[]): void {
  for (const t of tickets) {
    if (t.refs <= 0) throw new Error(`ticket of source ${t.ledger.name} released more often than held`);
    if (--t.refs === 0) t.ledger.settle(t);
  }
}

export function releaseBatch(batch: object): void {
  release(ticketsOf(batch));
}
