// The preference-pair objectives' settings (reward model, DPO) and what they require of the model and
// the data: fields of the trainer config (train-config.ts), kept here with the checks that go with them.
import { z } from 'zod';
import type { GptConfig } from '../model/config.ts';

export const rewardConfigSchema = z
  .object({
    margin: z
      .number()
      .min(0)
      .default(0)
      .describe('subtracted from each chosen - rejected score gap in the pairwise loss (Llama 2); 0: none'),
  })
  .default({ margin: 0 })
  .describe(
    "the reward model's pairwise logistic loss -log sigmoid(r_chosen - r_rejected - margin); only for objective " +
      "'reward'",
  );

export const dpoConfigSchema = z
  .object({
    beta: z.number().positive().default(0.1).describe('temperature of the implicit reward beta (log pi - log ref)'),
    labelSmoothing: z
      .number()
      .min(0)
      .lt(0.5)
      .default(0)
      .describe("conservative DPO: the assumed chance a pair's preference is flipped; 0: plain DPO"),
    reference: z
      .string()
      .min(1)
      .optional()
      .describe('checkpoint (step or run directory) of the frozen reference model; default: init.from'),
  })
  .default({ beta: 0.1, labelSmoothing: 0 })
  .describe("Direct Preference Optimization's sigmoid loss (src/nn/objective/dpo.ts); only for objective 'dpo'");

/** The pair objectives' requirements on the model and the data (the rows' even width is checked on
 * the first batch, pair-rows.ts). */
export function checkPairObjective(c: { objective: string; data: { seqLen?: number } }, m: GptConfig): void {
  if (c.objective === 'reward' && !m.rewardHead)
    throw new Error(
      "train config: objective 'reward' trains a reward model, but the model has no reward head; set " +
        'model.rewardHead: true',
    );
  if (c.objective === 'dpo' && m.rewardHead)
    throw new Error(
      "train config: objective 'dpo' trains a language model (a policy), but model.rewardHead is true; remove " +
        'model.rewardHead',
    );
  if ((c.objective === 'reward' || c.objective === 'dpo') && c.data.seqLen !== undefined)
    throw new Error(
      `train config: objective '${c.objective}' reads whole pair rows (chosen then rejected), which data.seqLen ` +
        `${c.data.seqLen} would crop apart; remove data.seqLen and pack the pairs to the length wanted`,
    );
}
