// `flowlm worker`: pulls work items of a job (or of every running job in the jobs bucket) and runs
// them. While an item runs it is marked in progress every ack_wait/3 (a long item is not redelivered);
// once its output is durable (runItem resolves after the atomic rename) the done record is published and
// the item acked. A failure is nak'ed with a growing delay, or, on its last delivery, parked with its
// error. A late worker (paused past ack_wait) finishes with the same bytes; its done record is a
// duplicate the coordinator ignores and its ack is refused harmlessly.
import { hostname } from 'node:os';
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { loadPrepCluster, type PrepClusterModule, type WorkItem } from '../cli/prep-cluster-contract.ts';
import { connectCluster, type Cluster } from './connect.ts';
import { JobChanges } from './job-changes.ts';
import { retry } from './retry.ts';
import {
  consumerName,
  DEFAULT_SETTINGS,
  doneSubject,
  failedSubject,
  ITEMS_STREAM,
  parkedSubject,
  type DoneRecord,
  type FailedRecord,
  type JobSpec,
} from './streams.ts';

export interface WorkerOptions {
  url: string;
  /** only this job; without it, every running job in the bucket */
  job?: string;
  /** items run at once by this process */
  slots: number;
  /** exit after this long without an item */
  idleExitMs?: number;
  /** exit after this many items */
  maxItems?: number;
  id?: string;
  log(line: string): void;
  module?: PrepClusterModule;
  signal?: AbortSignal;
  serverWaitMs?: number;
}

export interface WorkerOutcome {
  id: string;
  items: number;
  failures: number;
}

interface JobHandle {
  spec: JobSpec;
  consumer: Consumer;
  ackWaitMs: number;
  maxDeliver: number;
}

const enc = new TextEncoder();
const RELIST_MS = 2000;
// A pull that fails once is ordinary (a job's consumer is deleted as it completes; a server restarting).
// Pulls failing for PULL_FAILURE_REPORT_MS in a row are reported, and again every REPORT_AGAIN_MS while
// they go on, so a worker that gets no items says why instead of waiting in silence.
export const PULL_FAILURE_REPORT_MS = 2000;
const REPORT_AGAIN_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readSpec(cluster: Cluster, job: string): Promise<JobSpec | null> {
  const e = await cluster.jobs.get(job);
  if (!e || e.operation !== 'PUT' || e.value.length === 0) return null;
  return e.json<JobSpec>();
}

/** The running jobs this worker may serve. */
async function runningJobs(cluster: Cluster, only?: string): Promise<JobSpec[]> {
  const names: string[] = [];
  if (only) names.push(only);
  else for await (const k of await cluster.jobs.keys()) names.push(k);
  const specs = await Promise.all(names.map((n) => readSpec(cluster, n)));
  return specs.filter((s): s is JobSpec => s !== null && s.state === 'running');
}

export async function runWorker(o: WorkerOptions): Promise<WorkerOutcome> {
  const id = o.id ?? `${hostname()}-${process.pid}`;
  const waitMs = o.serverWaitMs ?? 60_000;
  const mod = o.module ?? (await loadPrepCluster());
  const cluster = await connectCluster(o.url, `flowlm-worker-${id}`, waitMs);
  const changes = await JobChanges.open(cluster.jobs, o.job);
  // loaded and connected: from here an item starts as soon as it is published
  o.log(`worker ${id}: ready at ${o.url}, serving ${o.job === undefined ? 'every running job' : `job ${o.job}`}`);
  const handles = new Map<string, JobHandle>();
  const outcome: WorkerOutcome = { id, items: 0, failures: 0 };
  let taken = 0;
  let lastItem = performance.now();
  let stop = false;

  const handle = async (spec: JobSpec): Promise<JobHandle> => {
    let h = handles.get(spec.job);
    if (!h) {
      const consumer = await cluster.js.consumers.get(ITEMS_STREAM, consumerName(spec.job));
      const info = await consumer.info(true);
      h = {
        spec,
        consumer,
        ackWaitMs: info.config.ack_wait ? info.config.ack_wait / 1e6 : DEFAULT_SETTINGS.ackWaitMs,
        maxDeliver: info.config.max_deliver ?? spec.maxDeliver,
      };
      handles.set(spec.job, h);
    }
    return h;
  };

  /** Done when the job is over, or nothing is left to deliver nor out with any worker. Decided from one
   * read of the job's record: read twice (is it running? then: does it exist?), a record put between the
   * two reads looked like a job already over, and a worker started with its job could exit at once. */
  const finished = async (): Promise<boolean> => {
    if (o.job === undefined) return false; // serving every job: only --idle-exit or --max-items end it
    const spec = await readSpec(cluster, o.job);
    if (spec === null) return false; // not put yet
    if (spec.state !== 'running') return true;
    // a job with dedup partitions has more items once its input items are done
    if ((spec.dedupPartitions ?? 1) > 1 && !spec.dedupPublished) return false;
    const info = await (await handle(spec)).consumer.info();
    return info.num_pending === 0 && info.num_ack_pending === 0;
  };

  const run = async (h: JobHandle, msg: JsMsg): Promise<void> => {
    const item = JSON.parse(new TextDecoder().decode(msg.data)) as WorkItem;
    const dedup = item.kind === 'dedup';
    // a dedup partition's records carry the phase and ids of their own (its index is the partition's)
    const phase = dedup ? ({ phase: 'dedup' } as const) : {};
    const tag = dedup ? `dedup:${item.index}` : String(item.index);
    const label = item.paths && item.paths.length > 1 ? `${item.path} +${item.paths.length - 1} files` : item.path;
    o.log(`worker ${id}: item ${tag} (${label}), delivery ${msg.info.deliveryCount}`);
    const beat = setInterval(
      () => {
        try {
          msg.working();
        } catch {} // the server is away: the item may be redelivered, which is harmless
      },
      Math.max(h.ackWaitMs / 3, 100),
    );
    const t = performance.now();
    try {
      if (dedup && !mod.runDedupPartition) throw new Error("this worker's prep module cannot run dedup partitions");
      const result = dedup ? await mod.runDedupPartition!(item, o.signal) : await mod.runItem(item, o.signal);
      const rec: DoneRecord = {
        ...phase,
        index: item.index,
        result,
        worker: id,
        ms: Math.round(performance.now() - t),
      };
      await retry(
        // the message id makes a retried publish (its ack lost in a server restart) a no-op
        () =>
          cluster.js.publish(doneSubject(item.job), enc.encode(JSON.stringify(rec)), {
            msgID: `${item.job}:${tag}:done:${id}:${msg.info.deliveryCount}`,
          }),
        waitMs,
        `reporting item ${tag} done`,
      );
      outcome.items++;
      await msg.ackAck({ timeout: 1000 }).catch(() => false); // refused when redelivered meanwhile: harmless
    } catch (err) {
      if (o.signal?.aborted) return; // stopping: the item is redelivered to another worker
      outcome.failures++;
      const deliveries = msg.info.deliveryCount;
      const rec: FailedRecord = {
        ...phase,
        index: item.index,
        error: err instanceof Error ? err.message : String(err),
        deliveries,
        worker: id,
      };
      o.log(`worker ${id}: item ${tag} (${label}) failed, delivery ${deliveries}: ${rec.error}`);
      const last = deliveries >= h.maxDeliver;
      await retry(
        () => cluster.js.publish((last ? parkedSubject : failedSubject)(item.job), enc.encode(JSON.stringify(rec))),
        waitMs,
        `reporting item ${tag} failed`,
      ).catch(() => {});
      if (last) msg.term(rec.error);
      else msg.nak(Math.min(250 * 2 ** deliveries, h.ackWaitMs));
    } finally {
      clearInterval(beat);
      lastItem = performance.now();
    }
  };

  const slot = async (n: number): Promise<void> => {
    let turn = n;
    // the running jobs, listed again after a pull that gave nothing or failed, and at least every
    // RELIST_MS: listing reads every job's record in the bucket (finished ones too), ~5-10 ms for
    // dozens of jobs, which every item paid when the list was read before each pull
    let jobs: JobSpec[] = [];
    let listedAt = -Infinity;
    let delivering = false;
    let failing: { since: number; reported: number } | undefined; // since the first of consecutive failures
    while (!stop && !o.signal?.aborted) {
      if (o.maxItems !== undefined && taken >= o.maxItems) break;
      let msg: JsMsg | null = null;
      let h: JobHandle | null = null;
      let step = 'listing the running jobs';
      try {
        const seen = changes.version;
        if (!delivering || performance.now() - listedAt >= RELIST_MS) {
          jobs = await runningJobs(cluster, o.job);
          listedAt = performance.now();
        }
        delivering = false;
        if (jobs.length > 0) {
          const spec = jobs[turn++ % jobs.length]!;
          step = `pulling an item of job ${spec.job}`;
          h = await handle(spec);
          msg = await h.consumer.next({ expires: 1000 });
          delivering = msg !== null;
        } else await changes.after(seen, 200); // no running job yet: look again once one is put, or soon
        failing = undefined;
      } catch (err) {
        // the server is away (restarting), or the job's consumer is gone: try again, and say so if it lasts
        const now = performance.now();
        failing ??= { since: now, reported: -Infinity };
        if (now - failing.since >= PULL_FAILURE_REPORT_MS && now - failing.reported >= REPORT_AGAIN_MS) {
          failing.reported = now;
          o.log(
            `worker ${id}: failing for ${((now - failing.since) / 1000).toFixed(1)} s: ${step}: ` +
              `${err instanceof Error ? err.message : String(err)}; retrying every 250 ms`,
          );
        }
        await sleep(250);
        continue;
      }
      if (msg && h && !(o.maxItems !== undefined && taken >= o.maxItems)) {
        taken++;
        await run(h, msg);
        continue;
      }
      if (msg) msg.nak(); // over --max-items: give it back at once
      if (o.idleExitMs !== undefined && performance.now() - lastItem >= o.idleExitMs) stop = true;
      else if (await finished().catch(() => false)) stop = true;
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.max(o.slots, 1) }, (_, n) => slot(n)));
  } finally {
    changes.close();
    await cluster.close();
  }
  return outcome;
}
