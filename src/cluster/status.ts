// `flowlm cluster status`: a job's items from the server alone (no access to the outputs needed):
// total from the job's record, done and parked from the results stream, pending / out with workers /
// redelivered from the work-queue consumer, and each worker's MB/s from its done records.
import type { Cluster } from './connect.ts';
import { ResultReader } from './results.ts';
import { consumerName, ITEMS_STREAM, RESULTS_STREAM, type JobSpec } from './streams.ts';

export interface JobStatus {
  job: string;
  state: JobSpec['state'];
  total: number;
  done: number;
  pending: number;
  ackPending: number;
  redelivered: number;
  failures: number;
  parked: Array<{ index: number; error: string }>;
  workers: Array<{ worker: string; items: number; mbPerS: number }>;
}

export async function jobStatus(cluster: Cluster, spec: JobSpec): Promise<JobStatus> {
  const reader = new ResultReader(cluster, spec.job);
  const done = new Set<number>();
  const parked = new Map<number, string>();
  const workers = new Map<string, { items: number; bytesIn: number; ms: number }>();
  let failures = 0;
  try {
    // read up to the stream's last record as of now (any job's: the reader skips the others)
    const last = (await cluster.jsm.streams.info(RESULTS_STREAM)).state.last_seq;
    for (let empty = 0; reader.next <= last && empty < 2; ) {
      const batch = await reader.poll(1000);
      empty = batch.length === 0 ? empty + 1 : 0;
      for (const r of batch) {
        if (r.record.phase === 'dedup') continue; // a dedup partition's record: the items are counted
        const i = r.record.index;
        if (r.kind === 'done' && !done.has(i)) {
          done.add(i);
          parked.delete(i);
          const w = workers.get(r.record.worker) ?? { items: 0, bytesIn: 0, ms: 0 };
          w.items++;
          w.bytesIn += r.record.result.bytesIn;
          w.ms += r.record.ms;
          workers.set(r.record.worker, w);
        } else if (r.kind === 'failed') failures++;
        else if (r.kind === 'parked' && !done.has(i)) parked.set(i, r.record.error);
      }
    }
  } finally {
    await reader.close();
  }
  let pending = 0,
    ackPending = 0,
    redelivered = 0;
  try {
    const info = await cluster.jsm.consumers.info(ITEMS_STREAM, consumerName(spec.job));
    pending = info.num_pending;
    ackPending = info.num_ack_pending;
    redelivered = info.num_redelivered;
  } catch {} // the consumer is gone (a finished job): nothing pending
  return {
    job: spec.job,
    state: spec.state,
    total: spec.count,
    done: done.size,
    pending,
    ackPending,
    redelivered,
    failures,
    parked: [...parked].sort((a, b) => a[0] - b[0]).map(([index, error]) => ({ index, error })),
    workers: [...workers]
      .map(([worker, f]) => ({
        worker,
        items: f.items,
        mbPerS: Math.round((f.bytesIn / 1e6 / Math.max(f.ms / 1000, 1e-3)) * 100) / 100,
      }))
      .sort((a, b) => a.worker.localeCompare(b.worker)),
  };
}

export async function listJobs(cluster: Cluster): Promise<JobSpec[]> {
  const out: JobSpec[] = [];
  for await (const k of await cluster.jobs.keys()) {
    const e = await cluster.jobs.get(k);
    if (e && e.operation === 'PUT' && e.value.length > 0) out.push(e.json<JobSpec>());
  }
  return out.sort((a, b) => a.created.localeCompare(b.created));
}
