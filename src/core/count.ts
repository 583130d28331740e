// Counting at an operator's boundary: what entered and what left, rows, batches and bytes.
import type { RecordBatch } from 'apache-arrow';
import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import { batchBytes } from '../schema/build.ts';
import type { OperatorStats } from './stats.ts';
import { recordKernelStats } from './kernel-stats.ts';

export function countInput<B extends RecordBatch>(stats: OperatorStats): MonoTypeOperatorFunction<B> {
  return tap((b) => {
    stats.batchesIn++;
    stats.rowsIn += b.numRows;
    stats.bytesIn += batchBytes(b);
  });
}

/** Also records the stats a kernel attached to its output (see kernel-stats.ts). */
export function countOutput<B extends RecordBatch>(stats: OperatorStats): MonoTypeOperatorFunction<B> {
  return tap((b) => {
    recordKernelStats(b, stats);
    stats.batchesOut++;
    stats.rowsOut += b.numRows;
    stats.bytesOut += batchBytes(b);
  });
}
