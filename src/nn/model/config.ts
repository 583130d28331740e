// The GPT's shape and regularisers as one zod-validated object; presets name the benchmark configs.
import { z } from 'zod';
import { loraConfigSchema } from '../adapters/lora-config.ts';
import { prefixConfigSchema } from '../adapters/prefix-config.ts';
import { ptuningConfigSchema } from '../adapters/ptuning-config.ts';

export const gptConfigSchema = z
  .object({
    vocabSize: z
      .number()
      .int()
      .min(2)
      .describe("token ids the model embeds and predicts (at least the tokenizer's vocabulary)"),
    contextLength: z
      .number()
      .int()
      .min(1)
      .describe('longest sequence the model sees, in tokens (learned position table size)'),
    nLayer: z.number().int().min(1).describe('transformer blocks'),
    nHead: z.number().int().min(1).describe('attention heads per block; dModel must be divisible by it'),
    dModel: z.number().int().min(1).describe('width of the residual stream (the embedding size)'),
    mlpRatio: z
      .number()
      .positive()
      .default(4)
      .describe(
        'MLP hidden width = mlpRatio * dModel (for swiglu too: its two input projections then hold 1.5x the weights ' +
          "of a gelu MLP's one; " +
          "mlpRatio 8/3 matches the gelu MLP's parameter count)",
      ),
    activation: z
      .enum(['gelu', 'relu', 'swiglu'])
      .default('gelu')
      .describe("the MLP's nonlinearity (mlp.ts): GPT-2's tanh GELU, ReLU, or SwiGLU (adds h.N.mlp.c_gate)"),
    positions: z
      .enum(['learned', 'sinusoidal'])
      .default('learned')
      .describe('position embeddings: a learned table (wpe.weight) or the fixed sinusoidal one (needs an even dModel)'),
    norm: z.enum(['pre', 'post']).default('pre').describe('pre-LN (GPT-2) or post-LN (original transformer) blocks'),
    causal: z
      .boolean()
      .default(true)
      .describe('false gives bidirectional attention, the setting for a masked-LM objective'),
    docMasking: z
      .boolean()
      .default(false)
      .describe(
        'tokens attend only within their own document, positions counting from its start, when doc_starts are given',
      ),
    dropout: z
      .number()
      .min(0)
      .max(1)
      .lt(1)
      .default(0)
      .describe('dropout rate on the residual branches and the embeddings; 0: none'),
    // gptConfig() fills attnDropout in, so a parsed config always has it
    attnDropout: z
      .number()
      .min(0)
      .lt(1)
      .optional()
      .describe(
        "dropout rate on the attention probabilities (GPT-2's attn_pdrop); unset: the same as dropout, as nanoGPT " +
          'uses one rate for both',
      ),
    dropPath: z
      .number()
      .min(0)
      .lt(1)
      .default(0)
      .describe('probability of dropping a whole residual branch per sequence (stochastic depth); 0: none'),
    tiedHead: z
      .boolean()
      .default(true)
      .describe('output head shares the token embedding (GPT-2); false adds lm_head.weight'),
    layerNormEps: z.number().positive().default(1e-5).describe("LayerNorm's epsilon, added to the variance"),
    initStd: z
      .number()
      .positive()
      .default(0.02)
      .describe(
        'standard deviation of the normal initialisation of weights and embeddings (GPT-2 divides it by sqrt(2 * ' +
          'nLayer) for projections into the residual stream)',
      ),
    activationCheckpointing: z
      .boolean()
      .default(false)
      .describe(
        "recompute each block's forward pass in the backward pass instead of keeping its activations (less memory, " +
          'about one more forward pass of time); the dropout masks are replayed, so the numbers are identical',
      ),
    lora: loraConfigSchema
      .optional()
      .describe('LoRA adapters on chosen projections (src/nn/adapters/lora.ts); the base is then frozen'),
    prefix: prefixConfigSchema
      .optional()
      .describe(
        "prefix tuning: trainable keys/values before every layer's own (src/nn/adapters/prefix.ts); the base is " +
          'then frozen',
      ),
    ptuning: ptuningConfigSchema
      .optional()
      .describe(
        'P-tuning: v1 prompt-encoder virtual tokens, v2 deep prompts (src/nn/adapters/ptuning.ts); the base is then ' +
          'frozen',
      ),
    rewardHead: z
      .boolean()
      .optional()
      .describe(
        "a reward model's scalar head score.weight [dModel, 1], score.bias [1] (src/nn/model/scalar-head.ts), for " +
          "objective 'reward'; " +
          'it trains with the whole model, or with the adapters when one is configured',
      ),
  })
  .superRefine((c, ctx) => {
    if (c.dModel % c.nHead !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['dModel'],
        message: `dModel ${c.dModel} must be divisible by nHead ${c.nHead}`,
      });
    if (!Number.isInteger(c.mlpRatio * c.dModel))
      ctx.addIssue({
        code: 'custom',
        path: ['mlpRatio'],
        message: `mlpRatio * dModel must be an integer, got ${c.mlpRatio * c.dModel}`,
      });
    if (c.prefix && c.ptuning)
      ctx.addIssue({
        code: 'custom',
        path: ['ptuning'],
        message: 'give prefix or ptuning, not both (P-tuning v2 is a prefix already)',
      });
    // a packed row would need virtual tokens before each document; prefixes handle packing (gpt.ts)
    if (c.ptuning?.version !== 'v2' && c.ptuning && c.docMasking)
      ctx.addIssue({
        code: 'custom',
        path: ['ptuning'],
        message:
          'P-tuning v1 does not support docMasking (packed documents); set docMasking: false or use prefix tuning',
      });
    if (c.positions === 'sinusoidal' && c.dModel % 2 !== 0)
      ctx.addIssue({ code: 'custom', path: ['dModel'], message: 'sinusoidal positions need an even dModel' });
  });

export type GptConfigInput = z.input<typeof gptConfigSchema>;
export type GptConfig = z.output<typeof gptConfigSchema> & { attnDropout: number };

/** Parses and fills defaults (attnDropout from dropout); throws a ZodError naming the offending field. */
export function gptConfig(c: GptConfigInput): GptConfig {
  const parsed = gptConfigSchema.parse(c);
  return { ...parsed, attnDropout: parsed.attnDropout ?? parsed.dropout };
}

export const headDim = (c: GptConfig): number => c.dModel / c.nHead;
export const mlpWidth = (c: GptConfig): number => c.mlpRatio * c.dModel;

/** Benchmark configs from issue 5: GPT-2 vocabulary, context 128, batch 8 (batch is the trainer's). */
export const GPT_PRESETS = {
  tiny: { vocabSize: 50257, contextLength: 128, nLayer: 4, nHead: 4, dModel: 128, mlpRatio: 4 },
  micro: { vocabSize: 4096, contextLength: 128, nLayer: 2, nHead: 4, dModel: 64, mlpRatio: 4 },
} satisfies Record<string, GptConfigInput>;
