// Counting at an operator's boundary: what entered and what left, rows, batches and bytes.
import type { RecordBatch } from 'apache-arrow';
import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import { batchBytes } from '../schema/build.ts';
import type { OperatorStats } from './stats.ts';

export function countInput<B extends RecordBatch>(stats: OperatorStats): MonoTypeOperatorFunction<B> {
  return tap((b) => { stats.batchesIn++; stats.rowsIn += b.numRows; stats.bytesIn += batchBytes(b); });
}

export function countOutput<B extends RecordBatch>(stats: OperatorStats): MonoTypeOperatorFunction<B> {
  return tap((b) => { stats.batchesOut++; stats.rowsOut += b.numRows; stats.bytesOut += batchBytes(b); });
}
