// Checkpoints a PPO run every N iterations and at its last one (also after a stop request): policy,
// value head, AdamW moments, KL controller, Rng and prompt cursor, one atomic step directory
// (src/nn/ppo/ppo-state.ts). The metrics batches pass through. Rank 0 alone writes (every rank holds
// the same state); placed rank0, and on another rank it passes batches on even when run there.
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { withMeta } from '../../src/nn/train/step-batches.ts';
import { metricsSchema, type Metrics } from '../../src/schema/columns.ts';
import { metricRows } from '../../src/schema/metrics.ts';
import { CHECKPOINT_KEY } from '../train/checkpoint.ts';
import { ppoField, ppoMetaOf, ppoRunOf } from './ppo-field.ts';

export const ppoCheckpoint = defineOperator({
  id: 'posttrain/ppo-checkpoint',
  description: 'checkpoint the PPO run every N iterations and at the last (atomic; exact resume); rank 0 only',
  config: z.object({
    ppo: ppoField,
    every: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("iterations between checkpoints (default: the run's checkpointEvery; 0: only the last)"),
  }),
  placement: 'rank0',
  input: () => metricsSchema(),
  passthrough: true,
  output: () => metricsSchema(),
  make: (cfg, ctx) => {
    const run = ppoRunOf(ctx, cfg.ppo);
    run.catch(() => undefined);
    return mapBatch(
      async (batch: RecordBatch<Metrics>) => {
        const state = await (await run).state();
        if (state.dist.rank !== 0) return batch;
        const meta = ppoMetaOf(batch, ctx.nodeId);
        const every = cfg.every ?? state.cfg.checkpointEvery;
        const due = meta.last === true || (every > 0 && meta.iteration % every === 0);
        const dir = due ? await state.checkpoint(metricRows(batch)) : undefined;
        if (dir) ctx.log(`iteration ${meta.iteration}: checkpoint ${dir}`);
        return dir ? withMeta(batch, { [CHECKPOINT_KEY]: dir }) : batch;
      },
      { ctx },
    );
  },
});
