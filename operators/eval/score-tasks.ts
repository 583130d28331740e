// Evaluation as a source: a checkpoint's model answers each task's requests (src/eval/harness.ts) and
// each task's results leave as one EvalResults batch (task, metric, value, stderr, n, config_hash), for
// any sink: io/write-parquet in `flowlm eval` (pipelines/eval-default.ts). With `plots`, a reliability
// diagram (SVG) is written for every metric whose items are calibration items.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { defineSource } from '../../src/core/operator.ts';
import { writeFileAtomic } from '../../src/runtime/files.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { loadModel } from '../../src/nn/checkpoint/load-model.ts';
import { loadTasks } from '../../src/eval/registry.ts';
import { runTask } from '../../src/eval/run-tasks.ts';
import { tokenizerFor } from '../../src/eval/tokenizer.ts';
import { evalResultsSchema } from '../../src/schema/columns.ts';
import { evalResultsBatch } from '../../src/schema/eval-results.ts';
import { reliabilityPlots } from './reliability-plots.ts';

const Config = z.object({
  checkpoint: z
    .string()
    .min(1)
    .describe('a step-NNNNNN checkpoint directory, or a run directory (its latest checkpoint)'),
  tasks: z
    .array(z.string().min(1))
    .min(1)
    .describe("task names (operators/eval/tasks), paths of .ts/.json task files, or 'all'"),
  limit: z.number().int().min(1).optional().describe('score only the first N documents of each task'),
  batchSize: z
    .number()
    .int()
    .min(1)
    .default(8)
    .describe('log-likelihood requests per forward pass (the scores do not depend on it)'),
  plots: z
    .string()
    .min(1)
    .optional()
    .describe('directory for reliability diagrams (SVG) of the calibration metrics; none when absent'),
});

export const scoreTasks = defineSource({
  id: 'eval/score-tasks',
  description: "a checkpoint's scores on evaluation tasks, one EvalResults batch per task",
  config: Config,
  placement: 'rank0',
  output: () => evalResultsSchema(),
  make: async function* (cfg, ctx) {
    await initBackend({ announce: (l) => ctx.log(l) });
    const tasks = await loadTasks(cfg.tasks);
    const { model, encoding, step, dir } = await loadModel(cfg.checkpoint);
    const schema = evalResultsSchema();
    try {
      const tok = tokenizerFor(encoding);
      ctx.log(
        `${dir} (step ${step}): ${tasks.length} task(s)${cfg.limit ? `, at most ${cfg.limit} documents each` : ''}`,
      );
      for (const task of tasks) {
        if (ctx.signal.aborted) return;
        const r = await runTask(model, tok, task, { limit: cfg.limit, batchSize: cfg.batchSize, encoding });
        ctx.log(
          `${task.name}: ${r.docs} documents, ${r.requests} requests, ${r.tokens} tokens scored in ` +
            `${r.seconds.toFixed(1)} s`,
        );
        if (cfg.plots) {
          mkdirSync(cfg.plots, { recursive: true });
          for (const [name, svg] of reliabilityPlots(task.name, r.items))
            writeFileAtomic(join(cfg.plots, `${task.name}.${name}.svg`), svg);
        }
        yield evalResultsBatch(r.rows, schema);
      }
    } finally {
      model.dispose();
    }
  },
});
