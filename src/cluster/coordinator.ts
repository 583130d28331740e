// The coordinator of `flowlm prep --cluster`: plans the job's work items (runs of input files, small
// ones grouped up to itemBytes), publishes the ones not already done to the work-queue stream under
// message ids `<job>:<index>` (a restarted coordinator republishes and the server drops the duplicates),
// waits until every item is done (each done record verified against the output on disk) or parked, and
// merges the item outputs in item order into the shards and manifest, as single-process prep would write
// them: without dedup partitions the merge follows the items while they are made (stopped if one is
// parked), so little is left to merge at the end; with them it runs after the partitions.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  loadPrepCluster,
  type ItemResult,
  type MergeFigures,
  type PrepClusterModule,
  type WorkItem,
} from '../cli/prep-cluster-contract.ts';
import type { PrepOptions } from '../cli/prep-contract.ts';
import { connectCluster, type Cluster } from './connect.ts';
import { ResultReader } from './results.ts';
import { retry } from './retry.ts';
import {
  checkJobName,
  consumerName,
  defaultJobName,
  ensureJobConsumer,
  ensureStreams,
  itemSubject,
  ITEMS_STREAM,
  type JobSettings,
  type JobSpec,
} from './streams.ts';
import { JobTracker } from './tracker.ts';

export interface CoordinateOptions {
  url: string;
  options: PrepOptions;
  job?: string;
  settings: JobSettings;
  /** a progress line (stderr) */
  progress(line: string): void;
  progressMs?: number;
  module?: PrepClusterModule;
  /** how long requests are retried while the server is away */
  serverWaitMs?: number;
  /** exact dedup partitioned by key hash over this many work items run after the input items (each holds
   * the distinct keys of its partition only); 1 (the default): the merge holds every distinct key */
  dedupPartitions?: number;
  /** target input bytes of a work item: consecutive small files are grouped up to it (default
   * DEFAULT_ITEM_BYTES) */
  itemBytes?: number;
}

export interface CoordinateOutcome {
  job: string;
  items: number;
  /** items found complete on disk before publishing (a resumed job) */
  skipped: number;
  parked: Array<{ index: number; path: string; error: string }>;
  merge: MergeFigures | null;
  bytesIn: number;
  durationMs: number;
  workers: Array<{ worker: string; items: number; mbPerS: number }>;
  duplicates: number;
  failures: number;
  /** dedup partitions run as work items (0: none, the merge deduplicated) */
  dedupPartitions: number;
  /** where the time went: planning, checking done items, connecting and publishing; the input items; the
   * dedup partitions; the merge */
  phasesMs: { plan: number; items: number; dedup: number; merge: number };
}

const PREP_OUT_DEFAULT = 'out/prep';
// consumer checks with nothing pending or out before the remaining items count as parked (their last
// delivery ended without a result: the worker died on it, or the last failure record was lost)
const STALL_CHECKS = 3;

async function publishItems(cluster: Cluster, items: WorkItem[], todo: number[], waitMs: number): Promise<void> {
  const enc = new TextEncoder();
  // a bounded window of publishes in flight: fast, and the server's dedup makes retries harmless
  const WINDOW = 64;
  for (let s = 0; s < todo.length; s += WINDOW) {
    await Promise.all(
      todo.slice(s, s + WINDOW).map((i) =>
        retry(
          () =>
            cluster.js.publish(itemSubject(items[i]!.job), enc.encode(JSON.stringify(items[i])), {
              msgID: items[i]!.kind === 'dedup' ? `${items[i]!.job}:dedup:${i}` : `${items[i]!.job}:${i}`,
            }),
          waitMs,
          `publishing item ${i} (${items[i]!.path})`,
        ),
      ),
    );
  }
}

async function putSpec(cluster: Cluster, spec: JobSpec, waitMs: number): Promise<void> {
  await retry(
    () => cluster.jobs.put(spec.job, new TextEncoder().encode(JSON.stringify(spec))),
    waitMs,
    `recording job ${spec.job} in the jobs bucket`,
  );
}

/** Nothing pending nor out with a worker: the remaining items will not be delivered again. */
async function exhausted(cluster: Cluster, job: string): Promise<boolean> {
  try {
    const info = await cluster.jsm.consumers.info(ITEMS_STREAM, consumerName(job));
    return info.num_pending === 0 && info.num_ack_pending === 0;
  } catch {
    return false;
  }
}

export async function coordinate(o: CoordinateOptions): Promise<CoordinateOutcome> {
  const t0 = performance.now();
  const waitMs = o.serverWaitMs ?? 60_000;
  const mod = o.module ?? (await loadPrepCluster());
  // every worker reads the same paths: the output directory is absolute, on shared storage
  const options: PrepOptions = { ...o.options, out: resolve(o.options.out ?? PREP_OUT_DEFAULT) };
  const plan = await mod.planItems(options, o.itemBytes);
  if ((o.dedupPartitions ?? 1) > 1) await mod.checkPartitions?.(options, o.dedupPartitions!);
  if (plan.length === 0) throw new Error('prep --cluster: the inputs name no files (nothing to distribute)');
  const job = checkJobName(o.job ?? defaultJobName(options, plan));
  const items: WorkItem[] = plan.map((paths, index) => ({
    job,
    index,
    count: plan.length,
    path: paths[0]!,
    ...(paths.length > 1 ? { paths } : {}),
    options,
  }));
  const tracker = new JobTracker(items, mod);
  const todo: number[] = [];
  for (const item of items) {
    const done = await mod.verifyItem(item);
    if (done) tracker.done.set(item.index, done);
    else todo.push(item.index);
  }
  const skipped = items.length - todo.length;
  const P = o.dedupPartitions ?? 1;
  if (!Number.isInteger(P) || P < 1)
    throw new Error(`prep --cluster: dedup partitions must be a whole number >= 1, not ${P}`);
  if (P > 1 && (!mod.runDedupPartition || !mod.verifyDedupPartition))
    throw new Error('prep --cluster: the clustered prep module cannot run dedup partitions (an older package?)');
  const cluster = await connectCluster(o.url, `flowlm-coordinator-${job}`, waitMs);
  const reader = new ResultReader(cluster, job);
  let spec: JobSpec = {
    job,
    count: items.length,
    options,
    ...o.settings,
    state: 'running',
    created: new Date().toISOString(),
    ...(P > 1 ? { dedupPartitions: P } : {}),
  };
  let failures = 0;
  let duplicates = 0;
  let follow: AbortController | undefined;
  let following: Promise<{ m: MergeFigures } | { e: unknown }> | undefined;
  const settledFile = join(options.out!, `.settled-${job}-${process.pid}-${Date.now()}`);
  /** Applies result records until every item of the tracker's phase is done or parked. */
  const settle = async (tracker: JobTracker): Promise<void> => {
    let lastProgress = performance.now();
    let idle = 0;
    while (!tracker.settled) {
      const records = await reader.poll(1000);
      for (const r of records) await tracker.apply(r);
      if (performance.now() - lastProgress >= (o.progressMs ?? 2000)) {
        o.progress(tracker.progressLine());
        lastProgress = performance.now();
      }
      if (records.length > 0 || tracker.settled) {
        idle = 0;
        continue;
      }
      idle = (await exhausted(cluster, job)) ? idle + 1 : 0;
      if (idle >= STALL_CHECKS)
        for (const i of tracker.pending())
          tracker.parked.set(
            i,
            tracker.errors.get(i) ??
              `delivered ${o.settings.maxDeliver} times without a result (each worker died or timed out on it)`,
          );
    }
    o.progress(tracker.progressLine());
  };
  try {
    await retry(() => ensureStreams(cluster.jsm), waitMs, 'creating the JetStream streams');
    await retry(() => ensureJobConsumer(cluster.jsm, job, o.settings), waitMs, `creating the consumer of ${job}`);
    // the job's record goes in after its items: a worker that finds the job running and nothing to
    // deliver knows the job is drained
    await publishItems(cluster, items, todo, waitMs);
    await putSpec(cluster, spec, waitMs);
    o.progress(
      `cluster: job ${job}: ${items.length} items, ${todo.length} published` +
        (skipped ? `, ${skipped} already done` : '') +
        ` (workers: flowlm worker --cluster ${o.url} --job ${job})`,
    );
    const tPublished = performance.now();
    // the merge follows the items as they complete (no dedup partitions): at the end only the last are left
    if (P === 1 && mod.mergeFollowing) {
      follow = new AbortController();
      following = mod.mergeFollowing(options, plan, job, follow.signal, settledFile).then(
        (m) => ({ m }) as const,
        (e: unknown) => ({ e }) as const,
      );
    }
    await settle(tracker);
    if (following) {
      mkdirSync(options.out!, { recursive: true });
      writeFileSync(settledFile, '');
    }
    const tItems = performance.now();
    let parked = [...tracker.parked]
      .sort((a, b) => a[0] - b[0])
      .map(([index, error]) => ({ index, path: items[index]!.path, error }));
    let merge: MergeFigures | null = null;
    let partitions: ItemResult[] | undefined;
    if (parked.length === 0 && P > 1) {
      // phase 2: the dedup partitions, over the same work queue, once every input item is done
      const parts: WorkItem[] = Array.from({ length: P }, (_, index) => ({
        kind: 'dedup',
        items: items.length,
        job,
        index,
        count: P,
        path: `dedup partition ${index} of ${P}`,
        options,
      }));
      const dedup = new JobTracker(parts, mod, 'dedup');
      const partTodo: number[] = [];
      for (const part of parts) {
        const done = await mod.verifyDedupPartition!(part);
        if (done) dedup.done.set(part.index, done);
        else partTodo.push(part.index);
      }
      await publishItems(cluster, parts, partTodo, waitMs);
      spec = { ...spec, dedupPublished: true };
      await putSpec(cluster, spec, waitMs);
      o.progress(`cluster: job ${job}: ${P} dedup partitions, ${partTodo.length} published`);
      await settle(dedup);
      parked = [...dedup.parked]
        .sort((a, b) => a[0] - b[0])
        .map(([index, error]) => ({ index, path: parts[index]!.path, error }));
      partitions = parts.map((p) => dedup.done.get(p.index)!);
      failures += dedup.failures;
      duplicates += dedup.duplicates;
    }
    const tDedup = performance.now();
    if (parked.length === 0) {
      const results = items.map((it) => tracker.done.get(it.index)!);
      const followed = following ? await following : undefined;
      // a following merge that failed: the merge after every item says what is wrong, or succeeds
      merge = followed && 'm' in followed ? followed.m : await mod.mergeItems(options, results, partitions, plan);
    }
    await putSpec(cluster, { ...spec, state: parked.length ? 'failed' : 'complete' }, waitMs);
    // a complete job's consumer holds nothing more: free it (a failed job's keeps its parked items)
    if (parked.length === 0) await cluster.jsm.consumers.delete(ITEMS_STREAM, consumerName(job)).catch(() => {});
    return {
      job,
      items: items.length,
      skipped,
      parked,
      merge,
      bytesIn: [...tracker.done.values()].reduce((s, r) => s + r.bytesIn, 0),
      durationMs: performance.now() - t0,
      workers: tracker.rates(),
      duplicates: tracker.duplicates + duplicates,
      failures: tracker.failures + failures,
      dedupPartitions: P > 1 ? P : 0,
      phasesMs: {
        plan: Math.round(tPublished - t0),
        items: Math.round(tItems - tPublished),
        dedup: Math.round(tDedup - tItems),
        merge: Math.round(performance.now() - tDedup),
      },
    };
  } finally {
    if (follow && following) {
      follow.abort(); // parked items, or an error: nothing is merged
      await following;
    }
    rmSync(settledFile, { force: true });
    await reader.close();
    await cluster.close();
  }
}
