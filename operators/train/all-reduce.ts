// The mean of each step's gradient over the data-parallel ranks (ring all-reduce per bucket through
// the replica's process group), and of the loss (float64 exact) and tokens: afterwards every rank holds
// the same GradBucket batch. The identity at world size 1, and with trainer overlapComm (the
// forward-backward node all-reduced each bucket while its backward ran).
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { gradBucketBatch, stepGradsOf } from '../../src/nn/train/step-batches.ts';
import { gradBucketSchema, type GradBucket } from '../../src/schema/columns.ts';
import { stageOf, trainerField } from './trainer-field.ts';

export const allReduce = defineOperator({
  id: 'train/all-reduce',
  description: "average each step's GradBucket batch (and loss) over the data-parallel ranks",
  config: z.object({ trainer: trainerField }),
  placement: 'replica',
  input: () => gradBucketSchema(),
  passthrough: false,
  output: () => gradBucketSchema(),
  make: (cfg, ctx) => {
    const stage = stageOf(ctx, cfg.trainer);
    return mapBatch(
      async (batch: RecordBatch<GradBucket>) => {
        const { replica, meta } = await stage(batch);
        // with trainer overlapComm train/forward-backward has reduced the step already
        if (replica.dist.worldSize === 1 || replica.cfg.overlapComm) return batch;
        const g = await replica.allReduce(stepGradsOf(batch, ctx.nodeId));
        return gradBucketBatch(g.flat, { ...meta, loss: g.loss, tokens: g.tokens });
      },
      { ctx },
    );
  },
});
