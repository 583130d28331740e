// Reads a job's done, failed and parked records from the results stream, from a given stream sequence
// on, in batches. An ordered consumer is ephemeral: after a server restart (or any error) it is made
// again from the next unseen sequence, so no record is skipped and none is read twice. A fetch runs
// until it has its batch or expires (1 s): a poll returns as soon as the record read is the last one
// the server has (its pending count is 0), so the coordinator sees the job's last item done at once.
import { DeliverPolicy } from '@nats-io/jetstream';
import type { Cluster } from './connect.ts';
import { RESULTS_STREAM, resultsFilter, type DoneRecord, type FailedRecord } from './streams.ts';

export type ResultRecord =
  | { kind: 'done'; record: DoneRecord }
  | { kind: 'failed'; record: FailedRecord }
  | { kind: 'parked'; record: FailedRecord };

export class ResultReader {
  private nextSeq = 1;
  private consumer: Awaited<ReturnType<Cluster['js']['consumers']['get']>> | null = null;

  constructor(
    private readonly cluster: Cluster,
    private readonly job: string,
  ) {}

  /** The stream sequence of the next record to read. */
  get next(): number {
    return this.nextSeq;
  }

  /** The records that arrived since the last call (waits up to `waitMs`, at least 1 s, for the first one). */
  async poll(waitMs = 500): Promise<ResultRecord[]> {
    const out: ResultRecord[] = [];
    try {
      this.consumer ??= await this.cluster.js.consumers.get(RESULTS_STREAM, {
        filter_subjects: resultsFilter(this.job),
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: this.nextSeq,
      });
      const batch = await this.consumer.fetch({ max_messages: 512, expires: Math.max(waitMs, 1000) });
      let drained = false;
      for await (const m of batch) {
        this.nextSeq = m.seq + 1;
        const kind = m.subject.slice(m.subject.lastIndexOf('.') + 1);
        const data: unknown = JSON.parse(new TextDecoder().decode(m.data));
        if (kind === 'done') out.push({ kind, record: data as DoneRecord });
        else if (kind === 'failed' || kind === 'parked') out.push({ kind, record: data as FailedRecord });
        if (m.info.pending === 0) {
          drained = true;
          break;
        }
      }
      if (drained) {
        // a record that came after the break may sit in this consumer's buffer: the next poll reads
        // from nextSeq with a new one
        const c = this.consumer;
        this.consumer = null;
        void c?.delete().catch(() => {});
      }
    } catch {
      // the server is away or the consumer was lost: start again from the next unseen record
      const c = this.consumer;
      this.consumer = null;
      await c?.delete().catch(() => {});
      await new Promise((r) => setTimeout(r, 200));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.consumer?.delete().catch(() => {});
  }
}
