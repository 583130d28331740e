// Forward and backward over this rank's micro-batches of a step (gradient accumulation): Packed
// micro-batches in, one GradBucket batch per step out (the mean gradient, flat, one row per all-reduce
// bucket; this rank's loss, tokens and the data cursor in its metadata). The work is the replica's
// (src/nn/train/replica.ts), the same code the trainer loop runs.
import { Schema, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { operate } from '../../src/core/operate.ts';
import { defineOperator } from '../../src/core/operator.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import { CURSOR_KEY, gradBucketBatch, metaOf, packedOf, stepMetaOf } from '../../src/nn/train/step-batches.ts';
import { gradBucketSchema, type GradBucket, type Packed } from '../../src/schema/columns.ts';
import { replicaField } from './replica-field.ts';

const Config = z.object({
  replica: replicaField,
  seqLen: z.number().int().min(1).optional().describe('crop rows to this many input tokens (default: as they come)'),
});

export const forwardBackward = defineOperator({
  id: 'train/forward-backward',
  description: 'mean loss gradient of this rank\'s micro-batches of each step, as GradBucket batches',
  config: Config,
  // Packed rows of any width (the width is the model's context + 1, checked per batch by packedOf)
  input: () => new Schema<Packed>([]),
  passthrough: false,
  output: () => gradBucketSchema(),
  make: (cfg, ctx) => {
    const { replica } = cfg;
    const done = replica.pace.join();
    let micro: PackedBatch[] = [];
    let step = 0;
    return operate<Packed, GradBucket>((batch: RecordBatch<Packed>, emit) => {
      const meta = stepMetaOf(batch, ctx.nodeId);
      if (meta.step !== replica.step + 1) throw new Error(`micro-batch of step ${meta.step} arrived when the replica is at step ${replica.step}; the chain must be fed by train/micro-batches`);
      if (micro.length > 0 && meta.step !== step) throw new Error(`step ${step} got ${micro.length} of ${replica.cfg.gradAccum} micro-batches before step ${meta.step} began`);
      step = meta.step;
      micro.push(packedOf(batch, cfg.seqLen));
      if (micro.length < replica.cfg.gradAccum) return;
      const g = replica.forwardBackward(micro);
      micro = [];
      emit(gradBucketBatch(g.flat, { step, loss: g.loss, tokens: g.tokens, cursor: metaOf(batch, CURSOR_KEY) }));
      done(step);
    }, {
      ctx,
      flush: () => { if (micro.length > 0) ctx.stats.drop(`incomplete step ${step} at the end of the input`, micro.reduce((n, b) => n + b.batch, 0)); },
    });
  },
});
