// The JetStream layout of clustered prep. Items: a work-queue stream (an item leaves it when a worker
// acks it), one durable pull consumer per job (explicit acks, ack_wait, max_deliver, and a bounded
// max_ack_pending: at most that many items are out with workers at once, the backpressure across
// machines). Results: a limits stream of done, failed and parked records that a restarted coordinator
// re-reads from the start. Jobs: a KV bucket with each job's spec, where workers find their work.
import { createHash } from 'node:crypto';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import type { PrepOptions } from '../cli/prep-contract.ts';
import type { ItemResult } from '../cli/prep-cluster-contract.ts';

export const ITEMS_STREAM = 'FLOWLM_ITEMS';
export const RESULTS_STREAM = 'FLOWLM_RESULTS';
export const JOBS_BUCKET = 'flowlm_jobs';
export const itemSubject = (job: string) => `flowlm.items.${job}`;
// one subject tree for a job's results, so one consumer filter (flowlm.results.<job>.*) reads them all
export const resultsFilter = (job: string) => `flowlm.results.${job}.*`;
export const doneSubject = (job: string) => `flowlm.results.${job}.done`;
export const failedSubject = (job: string) => `flowlm.results.${job}.failed`;
export const parkedSubject = (job: string) => `flowlm.results.${job}.parked`;
export const consumerName = (job: string) => `items-${job}`;
/** republishing an item within this window is deduplicated by the server (its message id) */
const DUPLICATE_WINDOW_MS = 10 * 60_000;
const ns = (ms: number) => ms * 1_000_000;

export interface JobSettings {
  /** an item not acked (nor marked in progress) within this is redelivered to another worker */
  ackWaitMs: number;
  /** deliveries of an item before it is parked with its error */
  maxDeliver: number;
  /** items out with workers at once */
  maxAckPending: number;
}

export const DEFAULT_SETTINGS: JobSettings = { ackWaitMs: 30_000, maxDeliver: 5, maxAckPending: 64 };

/** What a job's record in the KV bucket holds: enough for a worker to run its items. */
export interface JobSpec extends JobSettings {
  job: string;
  count: number;
  options: PrepOptions;
  /** running while items are out; complete or failed once the coordinator is done with it */
  state: 'running' | 'complete' | 'failed';
  /** exact dedup partitions run as work items after the input items (absent or 1: none, the merge dedups) */
  dedupPartitions?: number;
  /** the dedup partitions' items are published: once they are drained too, the job has nothing more */
  dedupPublished?: boolean;
  created: string;
}

export interface DoneRecord {
  /** 'dedup': a dedup partition's record (index: the partition); absent: an input item's */
  phase?: 'dedup';
  index: number;
  result: ItemResult;
  worker: string;
  ms: number;
}

export interface FailedRecord {
  phase?: 'dedup';
  index: number;
  error: string;
  deliveries: number;
  worker: string;
}

/** A job name is a subject token and a consumer name: letters, digits, - and _. */
export function checkJobName(job: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(job))
    throw new Error(`--job expects letters, digits, - and _ (at most 64), got "${job}"`);
  return job;
}

/** The default job name: the same options and inputs name the same job, so re-running resumes it. */
export function defaultJobName(options: PrepOptions, items: string[][]): string {
  const h = createHash('sha256').update(JSON.stringify({ options, items })).digest('hex');
  return `prep-${h.slice(0, 12)}`;
}

export async function ensureStreams(jsm: JetStreamManager): Promise<void> {
  const configs = [
    {
      name: ITEMS_STREAM,
      subjects: ['flowlm.items.>'],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: ns(DUPLICATE_WINDOW_MS),
    },
    {
      name: RESULTS_STREAM,
      subjects: ['flowlm.results.>'],
      retention: RetentionPolicy.Limits,
      // a week of records: enough to follow and resume a job (outputs on disk stay the truth after that)
      max_age: ns(7 * 24 * 3600_000),
      storage: StorageType.File,
    },
  ];
  for (const cfg of configs) {
    try {
      await jsm.streams.info(cfg.name);
    } catch {
      try {
        await jsm.streams.add(cfg);
      } catch (err) {
        // another coordinator created it meanwhile
        await jsm.streams.info(cfg.name).catch(() => {
          throw err;
        });
      }
    }
  }
}

export async function ensureJobConsumer(jsm: JetStreamManager, job: string, s: JobSettings): Promise<void> {
  const name = consumerName(job);
  try {
    await jsm.consumers.info(ITEMS_STREAM, name);
    return;
  } catch {}
  await jsm.consumers.add(ITEMS_STREAM, {
    durable_name: name,
    filter_subject: itemSubject(job),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ns(s.ackWaitMs),
    max_deliver: s.maxDeliver,
    max_ack_pending: s.maxAckPending,
  });
}
