// Prefix tuning's settings (Li & Liang 2021, as Hugging Face PEFT's PrefixTuningConfig): trainable key and
// value vectors that every layer's attention sees before the real tokens, optionally produced by a
// reparametrising MLP (PEFT's prefix_projection). P-tuning v2's deep prompts are this without the MLP
// (ptuning-config.ts, version 'v2').
import { z } from 'zod';

export const prefixConfigSchema = z
  .object({
    numVirtualTokens: z
      .number()
      .int()
      .min(1)
      .describe('prefix length: key/value vectors per layer and head that every query attends to'),
    projection: z
      .boolean()
      .default(false)
      .describe(
        "PEFT's prefix_projection: the prefixes come from an embedding [numVirtualTokens, dModel] through " +
          'Linear-tanh-Linear; false: the embedding [numVirtualTokens, nLayer*2*dModel] is the prefixes',
      ),
    encoderHiddenSize: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("hidden width of the projection MLP (PEFT's encoder_hidden_size); unset: dModel"),
    init: z
      .enum(['random', 'zero'])
      .default('random')
      .describe(
        "PEFT's init_weights: random (embedding N(0, 1), linears torch's U(+-1/sqrt(fan_in))) or zero (the prefix " +
          "embedding, or the projection's last linear, starts at 0)",
      ),
    freezeBase: z.boolean().default(true).describe('false trains the base weights along with the prefix'),
  })
  .strict();

export type PrefixConfigInput = z.input<typeof prefixConfigSchema>;
export type PrefixConfig = z.output<typeof prefixConfigSchema>;
