// Validation every N steps and at the run's last step, on rank 0 (the other ranks pass the step on to
// their next collective): the step's Metrics batch comes out with the validation rows added. Without
// validation data (the data source gave none), batches pass unchanged. With `tasks`, evaluation tasks
// (src/eval: cloze, multiple choice, perplexity, calibration, ...) run on the replica's model every
// `tasksEvery` steps and at the last; their rows land in the metrics as split 'eval', name TASK/METRIC.
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { loadTasks } from '../../src/eval/registry.ts';
import { runTasks } from '../../src/eval/run-tasks.ts';
import type { Task } from '../../src/eval/task.ts';
import { tokenizerFor } from '../../src/eval/tokenizer.ts';
import { STEP_KEY, withMeta } from '../../src/nn/train/step-batches.ts';
import { isPreferenceResult } from '../../src/nn/eval/preference-eval.ts';
import { metricsSchema, type Metrics } from '../../src/schema/columns.ts';
import { metricRows, metricsFromRows, type MetricRow } from '../../src/schema/metrics.ts';
import { dueAt, stageOf, trainerField } from './trainer-field.ts';
import { tokenBytesFor } from '../tokenize/token-bytes.ts';

export const evaluateStep = defineOperator({
  id: 'train/evaluate',
  description:
    'validation loss and perplexity (pair objectives: loss, reward accuracy and margin) every N steps and at the ' +
    "last step (rank 0), and evaluation tasks, added to the step's metrics",
  config: z.object({
    trainer: trainerField,
    every: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("steps between evaluations (default: the trainer's evalEvery; 0: only the last)"),
    tasks: z
      .array(z.string().min(1))
      .default([])
      .describe('evaluation tasks (flowlm eval --list: names, or paths of task files) run on the model'),
    tasksEvery: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('steps between task evaluations (default: every; 0: only the last step)'),
    tasksLimit: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('the first N documents of each task (keeps evaluation short during training)'),
  }),
  placement: 'rank0',
  input: () => metricsSchema(),
  passthrough: false,
  output: () => metricsSchema(),
  make: (cfg, ctx) => {
    const stage = stageOf(ctx, cfg.trainer);
    let tasks: Promise<Task[]> | undefined;
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
        if (r && trainer.tally) trainer.tally.val = r;
        const time = Date.now();
        const added: MetricRow[] = [];
        if (r) {
          // the pair objectives (reward model, DPO) report their loss, accuracy and margin, no perplexity
          const values: Record<string, number | undefined> = isPreferenceResult(r)
            ? {
                loss: r.loss,
                [`${r.objective}_loss`]: r.loss,
                reward_accuracy: r.accuracy,
                reward_margin: r.margin,
              }
            : { loss: r.loss, perplexity: r.perplexity, bits_per_byte: r.bitsPerByte };
          for (const [name, value] of Object.entries(values))
            if (value !== undefined) added.push({ step: meta.step, split: 'val', name, value, time });
        }
        if (cfg.tasks.length > 0 && dueAt(cfg.tasksEvery ?? every, meta.step, meta.last)) {
          tasks ??= loadTasks(cfg.tasks);
          const encoding = replica.cfg.encoding;
          const rows = await runTasks(replica.model, tokenizerFor(encoding), await tasks, {
            limit: cfg.tasksLimit,
            encoding,
          });
          for (const row of rows)
            added.push({ step: meta.step, split: 'eval', name: `${row.task}/${row.metric}`, value: row.value, time });
        }
        if (added.length === 0) return batch;
        return withMeta(metricsFromRows([...metricRows(batch), ...added]), {
          [STEP_KEY]: r ? { ...meta, val: r } : meta,
        });
      },
      { ctx },
    );
  },
});
