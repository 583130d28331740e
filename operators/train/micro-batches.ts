// The source of the training chain: this rank's micro-batches (Packed), gradAccum per step, read from
// the replica's data position (its checkpoint's cursor when resumed). Step k's micro-batches go out
// only when every stage has finished step k - 1 (src/nn/train/step-pace.ts), and none after the run ends
// (the config's last step, or a stop agreed by the ranks): the chain then completes.
import { z } from 'zod';
import { defineSource } from '../../src/core/operator.ts';
import { CURSOR_KEY, packedBatchOf, STEP_KEY, withMeta } from '../../src/nn/train/step-batches.ts';
import type { TrainData } from '../../src/nn/train/trainer.ts';
import { packedSchema } from '../../src/schema/columns.ts';
import { replicaField } from './replica-field.ts';

const Config = z.object({
  replica: replicaField,
  data: z.custom<TrainData>((v) => typeof (v as { train?: unknown } | null)?.train === 'function', { message: 'expected TrainData (src/nn/train/trainer.ts), e.g. shardTrainData(config, dist)' }),
  seqLen: z.number().int().min(1).describe('input tokens per row the data yields'),
});

export const microBatches = defineSource({
  id: 'train/micro-batches',
  description: 'this rank\'s training micro-batches, one optimizer step at a time, from the replica\'s data position',
  config: Config,
  output: (cfg) => packedSchema(cfg.seqLen),
  make: async function* (cfg, ctx) {
    const { replica, data } = cfg;
    const it = data.train(replica.cursor)[Symbol.asyncIterator]();
    try {
      for (let step = replica.step + 1; ; step++) {
        await replica.pace.settled(step - 1);
        // a turn of the event loop per step: rows from memory resolve in microtasks, and signals (a stop
        // request) and the metrics sink's file writes would otherwise wait for the run's end
        await new Promise((res) => setImmediate(res));
        if (replica.finished || ctx.signal.aborted) return;
        for (let k = 0; k < replica.cfg.gradAccum; k++) {
          const r = await it.next();
          if (r.done) throw new Error(`the training data ran out at step ${step} of ${replica.cfg.steps}; use more epochs or fewer steps`);
          if (r.value.batch.seqLen !== cfg.seqLen) throw new Error(`micro-batch of step ${step} has rows of ${r.value.batch.seqLen} tokens, the config says seqLen ${cfg.seqLen}`);
          yield withMeta(packedBatchOf(r.value.batch), { [CURSOR_KEY]: r.value.cursor, [STEP_KEY]: { step } });
        }
      }
    } finally {
      await it.return?.();
    }
  },
});
