// A PPO run's metrics into its run directory, as the training chain's are (train/metrics-writer.ts):
// metrics.jsonl appended live, metrics.parquet when the run ends; a resumed run keeps the log up to
// its checkpoint's iteration and appends. Rank 0.
import { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { defineSink } from '../../src/core/operator.ts';
import { metricsSchema } from '../../src/schema/columns.ts';
import { metricsWriter, type MetricsWriter } from '../train/metrics-writer.ts';
import { ppoField, ppoRunOf } from './ppo-field.ts';

export const ppoMetrics = defineSink({
  id: 'posttrain/ppo-metrics',
  description: "write a PPO run's metrics to <runDir>/metrics.jsonl (live) and metrics.parquet (at the end)",
  config: z.object({ ppo: ppoField }),
  placement: 'rank0',
  input: () => metricsSchema(),
  make: (cfg, ctx) => {
    let writer: Promise<MetricsWriter> | undefined;
    const open = () =>
      (writer ??= (async () => {
        const state = await (await ppoRunOf(ctx, cfg.ppo)).state();
        return metricsWriter(state.cfg.runDir, state.startIteration > 0 ? state.startIteration : undefined);
      })());
    return {
      // a new batch object over the same data: the credit ticket stays with this sink's batch
      write: async (batch) => (await open()).writeBatch(new RecordBatch(batch.schema, batch.data)),
      close: async () => {
        if (writer) await (await writer).close();
      },
      abort: async () => {
        if (writer) await (await writer.catch(() => undefined))?.close();
      },
    };
  },
});
