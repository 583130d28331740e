// PPO's reward: the reward model's score of each prompt + response row at its last token (with
// scoreEos, ending with end-of-text as the rows the reward model was trained on end), one forward
// pass over the rank's rows (rejection-sample.ts scoreRows). Data parallel: each rank scores its own.
import { Field, Float32, Schema, type Int32, type List, type RecordBatch } from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { withColumns } from '../../src/schema/index.ts';
import { idRows } from './ppo-columns.ts';
import { eosOf, ppoField, ppoStage } from './ppo-field.ts';
import { scoreRows } from './rejection-sample.ts';

type In = { prompt_ids: List<Int32>; response_ids: List<Int32> };
export type PpoScore = { score: Float32 };

/** The rows the reward model scores: prompt + response, plus end-of-text when asked and missing. */
export function scoredRows(prompts: number[][], responses: number[][], eos: number | undefined): number[][] {
  return prompts.map((p, b) => {
    const r = responses[b]!;
    return [...p, ...r, ...(eos !== undefined && r.at(-1) !== eos ? [eos] : [])];
  });
}

export const ppoScore = defineOperator({
  id: 'posttrain/ppo-score',
  description: "the reward model's score of each prompt + response as a score column; each rank its own rows",
  config: z.object({ ppo: ppoField }),
  placement: 'replica',
  input: () => new Schema<In>([]),
  passthrough: true,
  output: () => new Schema<PpoScore>([new Field('score', new Float32(), false)]),
  make: (cfg, ctx) => {
    const stage = ppoStage(ctx, cfg.ppo);
    return mapBatch(
      async (batch: RecordBatch<In>) => {
        const { state } = await stage(batch);
        const eos = state.cfg.scoreEos ? eosOf(state.encoding) : undefined;
        const rows = scoredRows(
          idRows(batch, 'prompt_ids', ctx.nodeId),
          idRows(batch, 'response_ids', ctx.nodeId),
          eos,
        );
        const scores = tf.tidy(() => scoreRows(state.reward, state.rewardHead, rows));
        return withColumns(batch, { score: scores }, { score: new Float32() }) as unknown as RecordBatch<PpoScore>;
      },
      { ctx },
    );
  },
});
