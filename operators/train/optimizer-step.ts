// The optimizer step: each step's averaged GradBucket batch is clipped by its global norm and applied
// (AdamW, or ZeRO-1 sharded AdamW, collective); out comes the step's Metrics batch (loss, lr,
// grad_norm, tokens_per_s), carrying the step, data cursor and whether the run ends here: the config's
// last step, or a stop (`stop` aborted on any rank) that all ranks then agree on.
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { STEP_KEY, stepGradsOf, stepMetaOf, withMeta, type StepMeta } from '../../src/nn/train/step-batches.ts';
import { gradBucketSchema, metricsSchema, type GradBucket, type Metrics } from '../../src/schema/columns.ts';
import { metricsBatch } from '../../src/schema/metrics.ts';
import { replicaField } from './replica-field.ts';

const Config = z.object({
  replica: replicaField,
  stop: z.custom<AbortSignal>((v) => v instanceof AbortSignal, { message: 'expected an AbortSignal' }).optional()
    .describe('aborted: stop after the current step (with a checkpoint)'),
});

export const optimizerStep = defineOperator({
  id: 'train/optimizer-step',
  description: 'clip and apply each step\'s averaged gradient; emits the step\'s train metrics',
  config: Config,
  input: () => gradBucketSchema(),
  passthrough: false,
  output: () => metricsSchema(),
  make: (cfg, ctx) => {
    const { replica } = cfg;
    const done = replica.pace.join();
    const t0 = performance.now();
    let tokens = 0;
    return mapBatch(async (batch: RecordBatch<GradBucket>): Promise<RecordBatch<Metrics>> => {
      const meta = stepMetaOf(batch, ctx.nodeId);
      if (meta.step !== replica.step + 1) throw new Error(`gradient of step ${meta.step} arrived when the replica is at step ${replica.step}`);
      const r = await replica.optimizerStep(stepGradsOf(batch, ctx.nodeId), meta.cursor ?? null);
      const stopped = await replica.endStep(cfg.stop?.aborted === true);
      tokens += r.tokens;
      const tokensPerS = tokens / ((performance.now() - t0) / 1000);
      const out = metricsBatch({ step: r.step, split: 'train', values: { loss: r.loss, lr: r.lr, grad_norm: r.gradNorm, tokens_per_s: tokensPerS } });
      done(meta.step);
      return withMeta(out, { [STEP_KEY]: { ...r, cursor: meta.cursor, last: replica.finished, stopped } satisfies StepMeta });
    }, { ctx });
  },
});
