// A PPO run's metrics into its run directory, as the training chain's are (train/metrics-writer.ts):
// metrics.jsonl appended live, metrics.parquet when the run ends; a resumed run keeps the log up to
// its checkpoint's iteration (restoring that iteration's rows from the checkpoint when a kill came
// between the checkpoint and the log) and appends. Rank 0 (the metrics are the whole iteration's on
// every rank); another rank that runs it writes nothing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { defineSink } from '../../src/core/operator.ts';
import { metricsSchema } from '../../src/schema/columns.ts';
import { metricsFromRows } from '../../src/schema/metrics.ts';
import { readMetricLines } from '../train/metrics-jsonl.ts';
import { metricsWriter, type MetricsWriter } from '../train/metrics-writer.ts';
import { ppoField, ppoRunOf } from './ppo-field.ts';

async function hasStep(path: string, step: number): Promise<boolean> {
  if (!existsSync(path)) return false;
  for await (const r of readMetricLines(path)) if (r.step === step) return true;
  return false;
}

export const ppoMetrics = defineSink({
  id: 'posttrain/ppo-metrics',
  description: "write a PPO run's metrics to <runDir>/metrics.jsonl (live) and metrics.parquet (at the end)",
  config: z.object({ ppo: ppoField }),
  placement: 'rank0',
  input: () => metricsSchema(),
  make: (cfg, ctx) => {
    let writer: Promise<MetricsWriter | undefined> | undefined;
    const open = () =>
      (writer ??= (async () => {
        const state = await (await ppoRunOf(ctx, cfg.ppo)).state();
        if (state.dist.rank !== 0) return undefined;
        const at = state.startIteration;
        // killed after the checkpoint of iteration `at` and before its rows reached the log: the rows the
        // checkpoint recorded go back in (the writer first cuts the log back to `at`)
        const logged = at > 0 && (await hasStep(join(state.cfg.runDir, 'metrics.jsonl'), at));
        const writer = metricsWriter(state.cfg.runDir, at > 0 ? at : undefined);
        if (at > 0 && !logged && state.checkpointMetrics.length > 0)
          writer.writeBatch(metricsFromRows(state.checkpointMetrics));
        return writer;
      })());
    return {
      // a new batch object over the same data: the credit ticket stays with this sink's batch
      write: async (batch) => (await open())?.writeBatch(new RecordBatch(batch.schema, batch.data)),
      close: async () => {
        if (writer) await (await writer)?.close();
      },
      abort: async () => {
        if (writer) await (await writer.catch(() => undefined))?.close();
      },
    };
  },
});
