// Validation every N steps and at the run's last step, on rank 0 (the other ranks go on to their
// next collective): the step's Metrics batch comes out with the validation loss, perplexity and bits
// per byte rows added. Without validation data, batches pass unchanged.
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import { STEP_KEY, stepMetaOf, withMeta } from '../../src/nn/train/step-batches.ts';
import { metricsSchema, type Metrics } from '../../src/schema/columns.ts';
import { metricRows, metricsFromRows } from '../../src/schema/metrics.ts';
import { dueAt, replicaField } from './replica-field.ts';
import { tokenBytesFor } from '../tokenize/token-bytes.ts';

export const evaluateStep = defineOperator({
  id: 'train/evaluate',
  description: 'validation loss and perplexity every N steps and at the last step (rank 0), added to the step\'s metrics',
  config: z.object({
    replica: replicaField,
    val: z.custom<() => AsyncIterable<PackedBatch>>((v) => typeof v === 'function', { message: 'expected a function returning the validation micro-batches' }).optional(),
    every: z.number().int().min(0).optional().describe('steps between evaluations (default: the train config\'s evalEvery; 0: only the last)'),
  }),
  input: () => metricsSchema(),
  passthrough: false,
  output: () => metricsSchema(),
  make: (cfg, ctx) => {
    const { replica, val } = cfg;
    const done = replica.pace.join();
    const every = cfg.every ?? replica.cfg.evalEvery;
    return mapBatch(async (batch: RecordBatch<Metrics>) => {
      const meta = stepMetaOf(batch, ctx.nodeId);
      // bits per byte: the encoding's byte table, built at the first evaluation and kept (token-bytes.ts)
      const r = val && dueAt(every, meta.step, meta.last) ? await replica.evaluate(val(), { tokenBytes: tokenBytesFor(replica.cfg.encoding) }) : undefined;
      done(meta.step);
      if (!r) return batch;
      const time = Date.now();
      const rows = [...metricRows(batch),
        { step: meta.step, split: 'val', name: 'loss', value: r.loss, time }, { step: meta.step, split: 'val', name: 'perplexity', value: r.perplexity, time },
        ...(r.bitsPerByte === undefined ? [] : [{ step: meta.step, split: 'val', name: 'bits_per_byte', value: r.bitsPerByte, time }])];
      return withMeta(metricsFromRows(rows), { [STEP_KEY]: { ...meta, val: r } });
    }, { ctx });
  },
});
