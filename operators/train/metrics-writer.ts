// The trainer's metric reports into the metrics sink (operators/train/metrics-sink.ts): one Metrics
// batch per report through a Subject, so metrics.jsonl grows live and metrics.parquet is written
// when the run ends, however it ends.
import type { RecordBatch } from 'apache-arrow';
import { lastValueFrom, Subject } from 'rxjs';
import { writeMetrics } from './metrics-sink.ts';
import type { Metrics } from '../../src/schema/columns.ts';
import { metricsBatch, type MetricsReport } from '../../src/schema/metrics.ts';

export interface MetricsWriter {
  write(report: MetricsReport): void;
  /** a Metrics batch as it is (e.g. from the training chain) */
  writeBatch(batch: RecordBatch<Metrics>): void;
  /** ends the stream: waits for the Parquet file (also after a failed run) */
  close(): Promise<void>;
}

/** `resumeStep`: continuing a run whose log is kept up to that step. */
export function metricsWriter(dir: string, resumeStep?: number): MetricsWriter {
  const reports = new Subject<RecordBatch<Metrics>>();
  const done = lastValueFrom(reports.pipe(writeMetrics({ dir, resumeStep }, { log: () => undefined })));
  return {
    write: (r) => reports.next(metricsBatch(r)),
    writeBatch: (b) => reports.next(b),
    close: async () => {
      reports.complete();
      await done;
    },
  };
}
