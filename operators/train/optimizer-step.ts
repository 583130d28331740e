// The optimizer step: each step's averaged GradBucket batch is clipped by its global norm and applied
// (AdamW, or ZeRO-1 sharded AdamW, collective); out comes the step's Metrics batch (loss, lr,
// grad_norm, tokens_per_s), carrying the step, data cursor and whether the run ends here: the config's
// last step, the end of a streamed input, or a stop (SIGINT/SIGTERM on any rank) the ranks agree on.
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { STEP_KEY, stepGradsOf, withMeta, type StepMeta } from '../../src/nn/train/step-batches.ts';
import { gradBucketSchema, metricsSchema, type GradBucket, type Metrics } from '../../src/schema/columns.ts';
import { metricsBatch } from '../../src/schema/metrics.ts';
import { stageOf, trainerField } from './trainer-field.ts';

export const optimizerStep = defineOperator({
  id: 'train/optimizer-step',
  description: "clip and apply each step's averaged gradient; emits the step's train metrics",
  config: z.object({ trainer: trainerField }),
  placement: 'replica',
  input: () => gradBucketSchema(),
  passthrough: false,
  output: () => metricsSchema(),
  make: (cfg, ctx) => {
    const stage = stageOf(ctx, cfg.trainer);
    return mapBatch(
      async (batch: RecordBatch<GradBucket>): Promise<RecordBatch<Metrics>> => {
        const { trainer, replica, meta } = await stage(batch);
        if (meta.step !== replica.step + 1)
          throw new Error(`gradient of step ${meta.step} arrived when the replica is at step ${replica.step}`);
        const r = await replica.optimizerStep(stepGradsOf(batch, ctx.nodeId), meta.cursor ?? null);
        const stopped = await replica.endStep(trainer.stopRequested);
        if (meta.last) replica.finished = true; // a streamed input ended with this step
        const tally = trainer.tally!;
        const p = tally.add(r);
        tally.stopped ||= stopped;
        trainer.onStep(p);
        const out = metricsBatch({
          step: r.step,
          split: 'train',
          values: { loss: r.loss, lr: r.lr, grad_norm: r.gradNorm, tokens_per_s: p.tokensPerS },
        });
        return withMeta(out, {
          [STEP_KEY]: { ...r, cursor: meta.cursor, last: replica.finished, stopped } satisfies StepMeta,
        });
      },
      { ctx },
    );
  },
});
