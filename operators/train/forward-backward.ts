// Forward and backward over this rank's rows of a step: the step's Packed batch is cut into its
// gradAccum micro-batches, and out comes one GradBucket batch (the mean gradient, flat, one row per
// all-reduce bucket; this rank's loss, tokens and the data cursor in its metadata). The work is the
// replica's (src/nn/train/replica.ts); the batch's credit travels on with the gradient.
import { Schema, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { CURSOR_KEY, gradBucketBatch, metaOf, packedOf } from '../../src/nn/train/step-batches.ts';
import { splitRows } from '../../src/nn/train/step-rows.ts';
import { gradBucketSchema, type GradBucket, type Packed } from '../../src/schema/columns.ts';
import { stageOf, trainerField } from './trainer-field.ts';

export const forwardBackward = defineOperator({
  id: 'train/forward-backward',
  description: "mean loss gradient of this rank's micro-batches of each step, as GradBucket batches",
  config: z.object({ trainer: trainerField }),
  placement: 'replica',
  // Packed rows of any width (the model's context + 1 at most, checked by the model)
  input: () => new Schema<Packed>([]),
  passthrough: false,
  output: () => gradBucketSchema(),
  make: (cfg, ctx) => {
    const stage = stageOf(ctx, cfg.trainer);
    return mapBatch(
      async (batch: RecordBatch<Packed>): Promise<RecordBatch<GradBucket>> => {
        const { replica, meta } = await stage(batch);
        if (meta.step !== replica.step + 1)
          throw new Error(
            `rows of step ${meta.step} arrived when the replica is at step ${replica.step}; feed the chain from ` +
              `train/shard-batches or train/stream-batches`,
          );
        const rows = packedOf(batch);
        const micro = splitRows(rows, replica.cfg.batchSize);
        if (micro.length !== replica.cfg.gradAccum)
          throw new Error(
            `step ${meta.step} has ${rows.batch} rows: ${replica.cfg.gradAccum} micro-batches of ` +
              `${replica.cfg.batchSize} expected`,
          );
        // trainer overlapComm: each gradient bucket is all-reduced while the backward runs, here; the
        // train/all-reduce node then passes the step on
        const g = replica.cfg.overlapComm ? await replica.forwardBackwardReduce(micro) : replica.forwardBackward(micro);
        return gradBucketBatch(g.flat, {
          step: meta.step,
          loss: g.loss,
          tokens: g.tokens,
          cursor: metaOf(batch, CURSOR_KEY),
          last: meta.last,
        });
      },
      { ctx },
    );
  },
});
