// The head of the training chain in `shards` mode: this rank's rows of each optimizer step, read from
// verified shards (flowlm prep) in the seeded global order from the replica's data position (its
// checkpoint's cursor when resumed: exact resume), one Packed batch per step. It opens the trainer's
// replica, since where the rows come from is part of what a checkpoint must match. Its credits allow
// one step in flight: step k's rows leave only when step k - 1 has reached the end of the graph
// (optimizer step applied, evaluated, checkpointed, metrics written), so no separate step pacer is needed.
import { z } from 'zod';
import { defineSource } from '../../src/core/operator.ts';
import { joinRows } from '../../src/nn/train/step-rows.ts';
import { CURSOR_KEY, packedBatchOf, STEP_KEY, withMeta } from '../../src/nn/train/step-batches.ts';
import { packedSchema } from '../../src/schema/columns.ts';
import { shardTrainData } from './shard-data.ts';
import { trainerField, trainerOf } from './trainer-field.ts';

const Config = z.object({
  trainer: trainerField,
  dir: z.string().min(1).describe('shard directory of the training rows (flowlm prep --out)'),
  val: z
    .string()
    .min(1)
    .optional()
    .describe('shard directory of validation rows; without it holdoutRows rows of dir are held out'),
  holdoutRows: z
    .number()
    .int()
    .min(0)
    .default(256)
    .describe('rows spread evenly over dir kept out of training for validation'),
  seqLen: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("crop rows to this many input tokens; default: the shards' length"),
  shuffle: z.boolean().default(true).describe("a seeded global order, reshuffled each epoch (the trainer's seed)"),
});

export const shardBatches = defineSource({
  id: 'train/shard-batches',
  description:
    "this rank's rows of each optimizer step from verified shards, one Packed batch per step, from the replica's " +
    'data position (exact resume)',
  config: Config,
  placement: 'replica',
  credits: { maxInFlight: 1 },
  // rows of any width: the shards' (or seqLen + 1), checked against the model when the replica opens
  output: (cfg) => packedSchema(cfg.seqLen ?? 1),
  make: async function* (cfg, ctx) {
    const trainer = await trainerOf(ctx, cfg.trainer);
    const rep = await trainer.open({
      train: cfg.dir,
      val: cfg.val,
      holdoutRows: cfg.holdoutRows,
      seqLen: cfg.seqLen,
      shuffle: cfg.shuffle,
    });
    const data = shardTrainData(rep.cfg, trainer.dist);
    trainer.val = data.val;
    if (trainer.lead)
      ctx.log(`${data.trainRows} training rows, ${data.valRows} validation rows of ${data.seqLen} tokens`);
    const it = data.train(rep.cursor)[Symbol.asyncIterator]();
    try {
      for (let step = rep.step + 1; ; step++) {
        // a turn of the event loop per step: rows from memory resolve in microtasks, and signals (a stop
        // request) and the metrics sink's file writes would otherwise wait for the run's end
        await new Promise((res) => setImmediate(res));
        if (rep.finished || ctx.signal.aborted) return;
        const micro = [];
        let cursor: unknown;
        for (let k = 0; k < rep.cfg.gradAccum; k++) {
          const r = await it.next();
          if (r.done)
            throw new Error(
              `the training data ran out at step ${step} of ${rep.cfg.steps}; use more epochs or fewer steps`,
            );
          micro.push(r.value.batch);
          cursor = r.value.cursor;
        }
        yield withMeta(packedBatchOf(joinRows(micro)), { [CURSOR_KEY]: cursor, [STEP_KEY]: { step } });
      }
    } finally {
      await it.return?.();
    }
  },
});
