// P-tuning's settings (Liu et al. 2021, as Hugging Face PEFT's PromptEncoderConfig). v1: virtual token
// embeddings from a prompt encoder (MLP or bidirectional LSTM + MLP head) prepended to the input
// embeddings. v2 (Liu et al. 2022, "deep prompt tuning"): trainable prompts in every layer, which is
// prefix tuning without the reparametrising MLP; `version: 'v2'` is an alias for
// `prefix: { numVirtualTokens, projection: false }` (same parameters and forward pass).
import { z } from 'zod';

export const ptuningConfigSchema = z
  .object({
    version: z
      .enum(['v1', 'v2'])
      .default('v1')
      .describe(
        'v1: prompt encoder in front of the embeddings; v2: deep prompts per layer (prefix tuning without projection)',
      ),
    numVirtualTokens: z.number().int().min(1).describe('virtual prompt tokens'),
    encoder: z
      .enum(['mlp', 'lstm'])
      .default('mlp')
      .describe(
        "v1's prompt encoder (PEFT's encoder_reparameterization_type): mlp = Linear-ReLU-Linear-ReLU-Linear; lstm = " +
          'bidirectional LSTM then Linear-ReLU-Linear',
      ),
    encoderHiddenSize: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("the prompt encoder's hidden width (PEFT's encoder_hidden_size); unset: dModel"),
    encoderNumLayers: z
      .number()
      .int()
      .min(1)
      .default(2)
      .describe("LSTM layers (PEFT's encoder_num_layers, default 2); the MLP always has PEFT's 3 linears"),
    freezeBase: z.boolean().default(true).describe('false trains the base weights along with the prompts'),
  })
  .strict();

export type PtuningConfigInput = z.input<typeof ptuningConfigSchema>;
export type PtuningConfig = z.output<typeof ptuningConfigSchema>;
