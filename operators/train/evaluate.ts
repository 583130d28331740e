// Validation every N steps and at the run's last step, on rank 0 (the other ranks pass the step on to
// their next collective): the step's Metrics batch comes out with the validation rows added. Without
// validation data (the data source gave none), batches pass unchanged.
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { STEP_KEY, withMeta } from '../../src/nn/train/step-batches.ts';
import { metricsSchema, type Metrics } from '../../src/schema/columns.ts';
import { metricRows, metricsFromRows } from '../../src/schema/metrics.ts';
import { dueAt, stageOf, trainerField } from './trainer-field.ts';
import { tokenBytesFor } from '../tokenize/token-bytes.ts';

export const evaluateStep = defineOperator({
  id: 'train/evaluate',
  description:
    "validation loss and perplexity every N steps and at the last step (rank 0), added to the step's metrics",
  config: z.object({
    trainer: trainerField,
    every: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("steps between evaluations (default: the trainer's evalEvery; 0: only the last)"),
  }),
  placement: 'rank0',
  input: () => metricsSchema(),
  passthrough: false,
  output: () => metricsSchema(),
  make: (cfg, ctx) => {
    const stage = stageOf(ctx, cfg.trainer);
    return mapBatch(
      async (batch: RecordBatch<Metrics>) => {
        const { trainer, replica, meta } = await stage(batch);
        const every = cfg.every ?? replica.cfg.evalEvery;
        const val = trainer.val;
        // bits per byte: the encoding's byte table, built at the first evaluation and kept (token-bytes.ts)
        const r =
          val && dueAt(every, meta.step, meta.last)
            ? await replica.evaluate(val(), { tokenBytes: tokenBytesFor(replica.cfg.encoding) })
            : undefined;
        if (!r) return batch;
        if (trainer.tally) trainer.tally.val = r;
        const time = Date.now();
        const values: Record<string, number | undefined> = {
          loss: r.loss,
          perplexity: r.perplexity,
          bits_per_byte: r.bitsPerByte,
        };
        const rows = [
          ...metricRows(batch),
          ...Object.entries(values).flatMap(([name, value]) =>
            value === undefined ? [] : [{ step: meta.step, split: 'val', name, value, time }],
          ),
        ];
        return withMeta(metricsFromRows(rows), { [STEP_KEY]: { ...meta, val: r } });
      },
      { ctx },
    );
  },
});
