// `flowlm prep --cluster URL` (the coordinator: src/cluster/coordinator.ts) and `flowlm cluster status`.
import { parseArgs } from 'node:util';
import { connectCluster, parseClusterUrl } from '../cluster/connect.ts';
import { coordinate, type CoordinateOutcome } from '../cluster/coordinator.ts';
import { jobStatus, listJobs, type JobStatus } from '../cluster/status.ts';
import { checkJobName, DEFAULT_SETTINGS, type JobSettings } from '../cluster/streams.ts';
import { clusterHelp } from './cluster-help.ts';
import { bytes, count } from './format.ts';
import { resolve } from 'node:path';
import { defOf, type AnyFactory } from '../core/operator.ts';
import { applyOverrides } from '../graph/load.ts';
import { loadPrepBuilder, PREP_PIPELINE, type PrepOptions } from './prep-contract.ts';
import { ClusterJobError } from './prep-cluster-contract.ts';
import { defaultRegistry } from '../graph/registry.ts';
import { resolveSpec } from './run-command.ts';
import { peakRssMb } from '../runtime/peak-rss.ts';
import { growCoordinatorHeap } from '../runtime/heap-growth.ts';
import { parseCount } from './count-flag.ts';
import { UsageError, type CliIO } from './io.ts';

export interface PrepClusterValues {
  cluster?: string;
  job?: string;
  'ack-wait'?: string;
  'max-deliver'?: string;
  'max-ack-pending'?: string;
  'dedup-partitions'?: string;
  'item-bytes'?: string;
  json?: boolean;
  set?: string[];
}

/** The directory a built prep spec's shard/write-shards step writes to, when it has one. */
function writeDirOf(spec: unknown): string | undefined {
  const steps = (spec as { steps?: Array<{ op?: unknown; config?: { dir?: unknown } }> }).steps ?? [];
  for (const st of [...steps].reverse()) {
    const id =
      typeof st.op === 'string' ? st.op : typeof st.op === 'function' ? defOf(st.op as unknown as AnyFactory).id : '';
    if (id === 'shard/write-shards' && typeof st.config?.dir === 'string') return st.config.dir;
  }
  return undefined;
}

function settingsOf(v: PrepClusterValues): JobSettings {
  const s = { ...DEFAULT_SETTINGS };
  if (v['ack-wait'] !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(v['ack-wait']) || Number(v['ack-wait']) < 0.1)
      throw new UsageError(`--ack-wait expects seconds (0.1 or more), got "${v['ack-wait']}"`, 'prep');
    s.ackWaitMs = Math.round(Number(v['ack-wait']) * 1000);
  }
  if (v['max-deliver'] !== undefined) s.maxDeliver = parseCount('max-deliver', v['max-deliver']);
  if (v['max-ack-pending'] !== undefined) s.maxAckPending = parseCount('max-ack-pending', v['max-ack-pending']);
  return s;
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

function summary(r: CoordinateOutcome): Record<string, unknown> {
  const m = r.merge;
  const seconds = Math.max(r.durationMs, 1) / 1000;
  return {
    ok: r.parked.length === 0,
    job: r.job,
    items: r.items,
    skipped: r.skipped,
    durationMs: Math.round(r.durationMs),
    // as flowlm prep counts them: the documents through the tokenizer, after exact (and near) dedup
    documents: m ? m.docs - m.duplicates - (m.nearDuplicates ?? 0) : 0,
    duplicates: m?.duplicates ?? 0,
    nearDuplicates: m?.nearDuplicates ?? 0,
    tokens: m?.tokens ?? 0,
    shards: m?.shards ?? 0,
    rows: m?.rows ?? 0,
    mb: round(r.bytesIn / 1e6, 3),
    mbPerS: round(r.bytesIn / 1e6 / seconds, 2),
    tokensPerS: Math.round((m?.tokens ?? 0) / seconds),
    peakRssMb: round(peakRssMb(), 1),
    manifest: m?.manifest ?? null,
    failures: r.failures,
    duplicateResults: r.duplicates,
    dedupPartitions: r.dedupPartitions,
    workers: r.workers,
    phasesMs: r.phasesMs,
    parked: r.parked,
  };
}

/** `flowlm prep --cluster URL ...`: coordinate the job, then print the prep summary. */
export async function prepClusterCommand(
  values: PrepClusterValues,
  options: PrepOptions,
  file: string | undefined,
  io: CliIO,
  command: 'prep' | 'run' = 'prep',
): Promise<number> {
  const url = values.cluster!;
  if (file !== undefined) {
    // every process loads the file by this path: it must export the builder the item/merge cut is made from
    const path = resolve(file);
    try {
      await loadPrepBuilder(path);
    } catch (err) {
      throw new UsageError(
        `--cluster runs a prep pipeline file: ${(err as Error).message} (see pipelines/prep-default.ts)`,
        command,
      );
    }
    options = { ...options, pipeline: path };
  }
  if ((values.set ?? []).length > 0) options = { ...options, sets: values.set };
  if (options.pipeline || options.sets) {
    // the built pipeline, --set applied, validated here as flowlm run validates it: a bad node or value is
    // reported (exit 2) before anything connects
    const build = await loadPrepBuilder(options.pipeline ?? PREP_PIPELINE);
    await resolveSpec(build(options), options.sets ?? [], {}, defaultRegistry, file ?? PREP_PIPELINE);
    // no --out (flowlm run): the job's output directory is where the built pipeline writes its shards
    const dir = writeDirOf(applyOverrides(build(options), options.sets ?? []).spec);
    if (options.out !== undefined && dir !== undefined && resolve(dir) !== resolve(options.out))
      throw new UsageError(
        `--out ${options.out}, but the pipeline writes its shards to ${dir} (write.dir): give one directory`,
        command,
      );
    if (dir !== undefined) options = { ...options, out: dir };
  }
  try {
    parseClusterUrl(url);
    if (values.job !== undefined) checkJobName(values.job);
  } catch (err) {
    throw new UsageError((err as Error).message, 'prep');
  }
  growCoordinatorHeap(); // fewer full collections of a mostly waiting process (heap-growth.ts)
  const run = coordinate({
    url,
    options,
    job: values.job,
    settings: settingsOf(values),
    ...(values['dedup-partitions'] !== undefined
      ? { dedupPartitions: parseCount('dedup-partitions', values['dedup-partitions']) }
      : {}),
    ...(values['item-bytes'] !== undefined ? { itemBytes: parseCount('item-bytes', values['item-bytes'], true) } : {}),
    progress: (line) => io.err(line),
  });
  let r: CoordinateOutcome;
  try {
    r = await run;
  } catch (err) {
    // a job that cannot run as asked (found while its steps are cut): what and why, exit 2
    if (!(err instanceof ClusterJobError)) throw err;
    io.err(`flowlm: ${err.message}`);
    if (values.json) io.out(JSON.stringify({ ok: false, error: err.message }));
    return 2;
  }
  const s = summary(r);
  for (const p of r.parked) io.err(`flowlm: item ${p.index} (${p.path}) is parked: ${p.error}`);
  if (values.json) io.out(JSON.stringify(s));
  else if (r.merge) {
    io.out(
      `prepared ${count(r.merge.docs - r.merge.duplicates - (r.merge.nearDuplicates ?? 0))} documents (${count(r.merge.duplicates)} duplicates` +
        `${r.merge.nearDuplicates ? `, ${count(r.merge.nearDuplicates)} near duplicates` : ''} dropped), ${count(r.merge.tokens)} tokens: ` +
        `${count(r.merge.shards)} shard${r.merge.shards === 1 ? '' : 's'} of ${count(r.merge.rows)} rows, ${r.merge.manifest}\n` +
        `${bytes(r.bytesIn)} read at ${s.mbPerS} MB/s by ${r.workers.length} worker${r.workers.length === 1 ? '' : 's'} (job ${r.job}, ${r.items} item${r.items === 1 ? '' : 's'}` +
        `${r.skipped ? `, ${r.skipped} already done` : ''})`,
    );
  }
  if (r.parked.length > 0) {
    io.err(
      `flowlm: job ${r.job}: ${r.parked.length} item${r.parked.length === 1 ? '' : 's'} parked, nothing merged; ` +
        'fix the inputs named above, then run the same command with a new --job',
    );
    return 1;
  }
  return 0;
}

const STATUS_OPTIONS = {
  cluster: { type: 'string' },
  job: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function statusLines(s: JobStatus): string {
  const w = s.workers.map((x) => `  worker ${x.worker}: ${x.items} items, ${x.mbPerS} MB/s`).join('\n');
  const p = s.parked.map((x) => `  parked item ${x.index}: ${x.error}`).join('\n');
  return (
    `job ${s.job} (${s.state}): ${s.total} items, ${s.done} done, ${s.pending} pending, ${s.ackPending} out with ` +
    `workers, ${s.redelivered} redelivered, ${s.failures} failures, ${s.parked.length} parked` +
    (w ? `\n${w}` : '') +
    (p ? `\n${p}` : '')
  );
}

/** `flowlm cluster status --cluster URL [--job NAME] [--json]` */
export async function clusterCommand(argv: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: STATUS_OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'cluster');
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(clusterHelp());
    return 0;
  }
  if (positionals[0] !== 'status' || positionals.length > 1)
    throw new UsageError(`expected flowlm cluster status, got "${positionals.join(' ')}"`, 'cluster');
  if (!values.cluster) throw new UsageError('flowlm cluster status needs --cluster nats://HOST:PORT', 'cluster');
  try {
    parseClusterUrl(values.cluster);
  } catch (err) {
    throw new UsageError((err as Error).message, 'cluster');
  }
  const cluster = await connectCluster(values.cluster, 'flowlm-status', 5000);
  try {
    const specs = (await listJobs(cluster)).filter((j) => values.job === undefined || j.job === values.job);
    if (values.job !== undefined && specs.length === 0) {
      io.err(`flowlm: no job "${values.job}" at ${values.cluster} (flowlm cluster status lists the jobs)`);
      return 1;
    }
    const jobs: JobStatus[] = [];
    for (const spec of specs) jobs.push(await jobStatus(cluster, spec));
    if (values.json) io.out(JSON.stringify({ jobs }));
    else io.out(jobs.length ? jobs.map(statusLines).join('\n') : `no jobs at ${values.cluster}`);
    return 0;
  } finally {
    await cluster.close();
  }
}
