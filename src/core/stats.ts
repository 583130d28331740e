// Per-operator counters on a side channel: the data stream never carries them. Helpers update them;
// the CLI and tests read snapshots.

export interface StatsSnapshot {
  rowsIn: number;
  rowsOut: number;
  batchesIn: number;
  batchesOut: number;
  bytesIn: number;
  bytesOut: number;
  dropped: number;
  dropReasons: Record<string, number>;
  busyMs: number;
  queue: number;
  /** named counts other than drops (e.g. PII replacements); present only when some were counted */
  counters?: Record<string, number>;
}

export class OperatorStats {
  rowsIn = 0;
  rowsOut = 0;
  batchesIn = 0;
  batchesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  dropped = 0;
  busyMs = 0;
  /** batches received and not yet emitted, dropped or absorbed (async work in progress) */
  queue = 0;
  readonly dropReasons = new Map<string, number>();
  readonly counters = new Map<string, number>();

  constructor(readonly nodeId: string) {}

  drop(reason: string, rows = 1): void {
    if (rows <= 0) return;
    this.dropped += rows;
    this.dropReasons.set(reason, (this.dropReasons.get(reason) ?? 0) + rows);
  }

  /** Count something that is not a drop (e.g. a replacement the operator made). */
  count(name: string, n = 1): void {
    if (n !== 0) this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  /** Time a synchronous piece of operator work. */
  time<R>(fn: () => R): R {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.busyMs += performance.now() - t0;
    }
  }

  snapshot(): StatsSnapshot {
    return {
      rowsIn: this.rowsIn,
      rowsOut: this.rowsOut,
      batchesIn: this.batchesIn,
      batchesOut: this.batchesOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      dropped: this.dropped,
      dropReasons: Object.fromEntries(this.dropReasons),
      busyMs: Math.round(this.busyMs),
      queue: this.queue,
      ...(this.counters.size > 0 ? { counters: Object.fromEntries(this.counters) } : {}),
    };
  }
}

/** All nodes' stats of one run, keyed by node id. */
export class StatsRegistry {
  readonly nodes = new Map<string, OperatorStats>();
  for(nodeId: string): OperatorStats {
    let s = this.nodes.get(nodeId);
    if (!s) this.nodes.set(nodeId, (s = new OperatorStats(nodeId)));
    return s;
  }
  snapshot(): Record<string, StatsSnapshot> {
    return Object.fromEntries([...this.nodes].map(([k, v]) => [k, v.snapshot()]));
  }
}
