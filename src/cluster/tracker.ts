// The coordinator's view of a job: which items are done (each done record double-checked against the
// output on disk, which is the truth; late and duplicate records are ignored), which failed and how
// often, which are parked, and each worker's throughput from its done records.
import type { ItemResult, PrepClusterModule, WorkItem } from '../cli/prep-cluster-contract.ts';
import type { ResultRecord } from './results.ts';

export interface WorkerFigures {
  items: number;
  bytesIn: number;
  ms: number;
}

export class JobTracker {
  readonly done = new Map<number, ItemResult>();
  readonly parked = new Map<number, string>();
  /** the last error of each item that failed at least once */
  readonly errors = new Map<number, string>();
  readonly workers = new Map<string, WorkerFigures>();
  failures = 0;
  duplicates = 0;

  /** `phase` 'dedup': the job's dedup partitions (their records carry the phase); else its input items */
  constructor(
    readonly items: WorkItem[],
    private readonly mod: PrepClusterModule,
    readonly phase: 'item' | 'dedup' = 'item',
  ) {}

  private verify(item: WorkItem): Promise<ItemResult | null> {
    if (this.phase === 'item') return this.mod.verifyItem(item);
    if (!this.mod.verifyDedupPartition) throw new Error('the clustered prep module cannot verify dedup partitions');
    return this.mod.verifyDedupPartition(item);
  }

  get count(): number {
    return this.items.length;
  }

  get settled(): boolean {
    return this.done.size + this.parked.size >= this.count;
  }

  async apply(rec: ResultRecord): Promise<void> {
    const { index } = rec.record;
    if ((rec.record.phase ?? 'item') !== this.phase) return; // the other phase's record
    const item = this.items[index];
    if (!item) return; // a record of another plan of this job name: not ours
    if (rec.kind === 'done') {
      const w = this.workers.get(rec.record.worker) ?? { items: 0, bytesIn: 0, ms: 0 };
      if (this.done.has(index)) {
        this.duplicates++;
        return;
      }
      const verified = await this.verify(item);
      if (!verified) return; // a record without its output (removed since?): the item stays pending
      this.done.set(index, verified);
      this.parked.delete(index);
      w.items++;
      w.bytesIn += verified.bytesIn;
      w.ms += rec.record.ms;
      this.workers.set(rec.record.worker, w);
    } else if (rec.kind === 'failed') {
      this.failures++;
      this.errors.set(index, rec.record.error);
    } else if (!this.done.has(index)) {
      this.parked.set(index, rec.record.error);
      this.errors.set(index, rec.record.error);
    }
  }

  /** Items neither done nor parked, in order. */
  pending(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) if (!this.done.has(i) && !this.parked.has(i)) out.push(i);
    return out;
  }

  /** MB/s of each worker over the time it spent running items. */
  rates(): Array<{ worker: string; items: number; mbPerS: number }> {
    return [...this.workers]
      .map(([worker, f]) => ({
        worker,
        items: f.items,
        mbPerS: Math.round((f.bytesIn / 1e6 / Math.max(f.ms / 1000, 1e-3)) * 100) / 100,
      }))
      .sort((a, b) => a.worker.localeCompare(b.worker));
  }

  progressLine(): string {
    const rates = this.rates()
      .map((r) => `${r.worker} ${r.items} items ${r.mbPerS} MB/s`)
      .join(', ');
    return (
      `cluster: ${this.done.size}/${this.count} ${this.phase === 'dedup' ? 'dedup partitions' : 'items'} done, ${this.pending().length} pending, ` +
      `${this.failures} failures, ${this.parked.size} parked${rates ? ` (${rates})` : ''}`
    );
  }
}
