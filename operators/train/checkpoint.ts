// Checkpoints every N steps and at the run's last step (also a stop): every rank gathers the full
// optimizer state (collective with ZeRO-1), rank 0 writes it (src/nn/checkpoint/, atomic, keep the last
// K) with the step's metric rows (a run killed before they reach the log gets them back on resume). The
// step's batches pass through; the directory written is added to their metadata.
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { withMeta } from '../../src/nn/train/step-batches.ts';
import { metricsSchema, type Metrics } from '../../src/schema/columns.ts';
import { metricRows } from '../../src/schema/metrics.ts';
import { dueAt, stageOf, trainerField } from './trainer-field.ts';

/** Schema-metadata key of the checkpoint directory written after a step (rank 0), JSON. */
export const CHECKPOINT_KEY = 'flowlm.checkpoint';

export const checkpoint = defineOperator({
  id: 'train/checkpoint',
  description:
    'checkpoint the replica every N steps and at the last step (every rank gathers the state, rank 0 writes)',
  config: z.object({
    trainer: trainerField,
    every: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("steps between checkpoints (default: the trainer's checkpointEvery; 0: only the last)"),
  }),
  placement: 'replica',
  input: () => metricsSchema(),
  passthrough: true,
  output: () => metricsSchema(),
  make: (cfg, ctx) => {
    const stage = stageOf(ctx, cfg.trainer);
    return mapBatch(
      async (batch: RecordBatch<Metrics>) => {
        const { trainer, replica, meta } = await stage(batch);
        const every = cfg.every ?? replica.cfg.checkpointEvery;
        const due = dueAt(every, meta.step, meta.last);
        const dir = due ? await replica.checkpoint(replica.lead ? metricRows(batch) : []) : undefined;
        if (dir && trainer.tally) trainer.tally.checkpoint = dir;
        return dir ? withMeta(batch, { [CHECKPOINT_KEY]: dir }) : batch;
      },
      { ctx },
    );
  },
});
