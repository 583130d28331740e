// The mean of each step's gradient over the data-parallel ranks (ring all-reduce per bucket through
// the replica's collective), and of the loss (float64 exact) and tokens: afterwards every rank holds
// the same GradBucket batch. The identity at world size 1.
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { gradBucketBatch, stepGradsOf, stepMetaOf } from '../../src/nn/train/step-batches.ts';
import { gradBucketSchema, type GradBucket } from '../../src/schema/columns.ts';
import { replicaField } from './replica-field.ts';

export const allReduce = defineOperator({
  id: 'train/all-reduce',
  description: 'average each step\'s GradBucket batch (and loss) over the data-parallel ranks',
  config: z.object({ replica: replicaField }),
  input: () => gradBucketSchema(),
  passthrough: false,
  output: () => gradBucketSchema(),
  make: (cfg, ctx) => {
    const { replica } = cfg;
    const done = replica.pace.join();
    return mapBatch(async (batch: RecordBatch<GradBucket>) => {
      const meta = stepMetaOf(batch, ctx.nodeId);
      if (replica.dist.worldSize === 1) { done(meta.step); return batch; }
      const g = await replica.allReduce(stepGradsOf(batch, ctx.nodeId));
      done(meta.step);
      return gradBucketBatch(g.flat, { ...meta, loss: g.loss, tokens: g.tokens });
    }, { ctx });
  },
});
