// Stats reported by a pure kernel. A kernel may run on a worker thread, where the operator's
// OperatorStats do not exist, so it attaches its drop reasons and counters to its output batch as
// schema metadata (which survives Arrow IPC); the operator boundary (countOutput) moves them into
// the operator's stats and removes them, so they never reach the next operator. A kernel with a
// rejects file names it there too, with the rows it dropped: the boundary, which still holds the
// input batch, writes those rows to the file (row-rejects.ts).
import { RecordBatch, Schema, type TypeMap } from 'apache-arrow';
import { defer, filter, type OperatorFunction } from 'rxjs';
import { closing } from './closing.ts';
import type { OperatorContext } from './context.ts';
import { FlowError } from './errors.ts';
import { mapBatch } from './map-batch.ts';
import { RowRejects } from './row-rejects.ts';
import type { OperatorStats } from './stats.ts';
import { releaseBatch } from './tickets.ts';

export const KERNEL_STATS_KEY = 'flowlm.kernel_stats';

export interface KernelStats {
  /** rows the kernel removed, by reason */
  drops?: Record<string, number>;
  /** anything else worth counting (e.g. replacements made), by name */
  counters?: Record<string, number>;
  /** where dropped rows go: the file, the column whose value is the record, each row and its reason */
  rejects?: RejectedRows;
}

export interface RejectedRows {
  path: string;
  column: string;
  rows: number[];
  reasons: string[];
}

/** Adds and merges counts into a plain record (a kernel's tally while it walks its rows). */
export function tally(into: Record<string, number>, name: string, n = 1): void {
  if (n !== 0) into[name] = (into[name] ?? 0) + n;
}

/** `metadata` with `stats` added (a new map), or undefined when there is nothing to report. */
export function kernelStatsMetadata(
  metadata: ReadonlyMap<string, string>,
  stats: KernelStats,
): Map<string, string> | undefined {
  const has = (r?: Record<string, number>) => r !== undefined && Object.keys(r).length > 0;
  if (!has(stats.drops) && !has(stats.counters) && !stats.rejects) return undefined;
  const out = new Map(metadata);
  out.set(KERNEL_STATS_KEY, JSON.stringify(stats));
  return out;
}

/** `batch` with `stats` attached (a new schema object; the input's metadata map is not touched). */
export function withKernelStats<T extends TypeMap>(batch: RecordBatch<T>, stats: KernelStats): RecordBatch<T> {
  const metadata = kernelStatsMetadata(batch.schema.metadata, stats);
  return metadata ? (new RecordBatch(new Schema(batch.schema.fields, metadata), batch.data) as RecordBatch<T>) : batch;
}

/** Moves stats a kernel attached to `batch` into `stats` and removes them from the batch; returns
 * them (the rejects are the caller's to write). */
export function recordKernelStats(batch: RecordBatch, stats: OperatorStats): KernelStats | undefined {
  const json = batch.schema.metadata.get(KERNEL_STATS_KEY);
  if (json === undefined) return undefined;
  batch.schema.metadata.delete(KERNEL_STATS_KEY);
  let parsed: KernelStats;
  try {
    parsed = JSON.parse(json) as KernelStats;
  } catch {
    return undefined;
  }
  for (const [reason, n] of Object.entries(parsed.drops ?? {})) if (typeof n === 'number') stats.drop(reason, n);
  for (const [name, n] of Object.entries(parsed.counters ?? {})) if (typeof n === 'number') stats.count(name, n);
  return parsed;
}

/** What a kernel threw, as the operator's error: its own reason and location (a row kernel names the
 * row) with the node and the batch, as a worker's failure is reported (runtime/parallel.ts). */
export function kernelFailure(nodeId: string, err: unknown, batch: number): FlowError {
  if (err instanceof FlowError)
    return new FlowError(nodeId, err.reason, { batch, ...err.location }, { cause: err.cause ?? err });
  return FlowError.wrap(nodeId, err, { batch });
}

/** The in-process form of a kernel operator: apply the kernel, record its stats, write the rows it
 * rejected, and drop batches it emptied (their credit returns to the source at once). The worker pool
 * runs the same kernel. */
export function kernelMap<I extends TypeMap, O extends TypeMap>(
  kernel: (batch: RecordBatch<I>) => RecordBatch<O>,
  ctx: OperatorContext,
): OperatorFunction<RecordBatch<I>, RecordBatch<O>> {
  const emptied = new WeakSet<object>();
  return (source) =>
    defer(() => {
      const rejects = new RowRejects();
      return source.pipe(
        mapBatch(
          (batch: RecordBatch<I>, index: number) => {
            let out: RecordBatch<O>;
            try {
              out = kernel(batch);
            } catch (err) {
              throw kernelFailure(ctx.nodeId, err, index);
            }
            rejects.write(batch, recordKernelStats(out, ctx.stats), index);
            if (batch.numRows > 0 && out.numRows === 0) emptied.add(out);
            return out;
          },
          { ctx },
        ),
        filter((b) => {
          if (!emptied.has(b)) return true;
          releaseBatch(b);
          return false;
        }),
        closing(() => rejects.close()),
      );
    });
}
