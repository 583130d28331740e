// The GPT's shape and regularisers as one zod-validated object; presets name the benchmark configs.
import { z } from 'zod';

export const gptConfigSchema = z.object({
  vocabSize: z.number().int().min(2),
  /** longest sequence the model sees (learned position table size) */
  contextLength: z.number().int().min(1),
  nLayer: z.number().int().min(1),
  nHead: z.number().int().min(1),
  dModel: z.number().int().min(1),
  /** MLP hidden width = mlpRatio * dModel (for swiglu too: its two input projections then hold 1.5x
   * the weights of a gelu MLP's one; mlpRatio 8/3 matches the gelu MLP's parameter count) */
  mlpRatio: z.number().positive().default(4),
  /** the MLP's nonlinearity (mlp.ts): GPT-2's tanh GELU, ReLU, or SwiGLU (adds h.N.mlp.c_gate) */
  activation: z.enum(['gelu', 'relu', 'swiglu']).default('gelu'),
  positions: z.enum(['learned', 'sinusoidal']).default('learned'),
  /** pre-LN (GPT-2) or post-LN (original transformer) blocks */
  norm: z.enum(['pre', 'post']).default('pre'),
  /** false gives bidirectional attention, the setting for a masked-LM objective */
  causal: z.boolean().default(true),
  /** tokens attend only within their own document when doc_starts are given */
  docMasking: z.boolean().default(false),
  /** dropout on the residual branches and the embeddings */
  dropout: z.number().min(0).max(1).lt(1).default(0),
  /** dropout on the attention probabilities (GPT-2's attn_pdrop); unset: the same as `dropout`, as
   * nanoGPT uses one rate for both. gptConfig() fills it in, so a parsed config always has it */
  attnDropout: z.number().min(0).lt(1).optional(),
  /** probability of dropping a whole residual branch per sequence (stochastic depth) */
  dropPath: z.number().min(0).lt(1).default(0),
  /** output head shares the token embedding (GPT-2); false adds lm_head.weight */
  tiedHead: z.boolean().default(true),
  layerNormEps: z.number().positive().default(1e-5),
  initStd: z.number().positive().default(0.02),
}).superRefine((c, ctx) => {
  if (c.dModel % c.nHead !== 0) ctx.addIssue({ code: 'custom', path: ['dModel'], message: `dModel ${c.dModel} must be divisible by nHead ${c.nHead}` });
  if (!Number.isInteger(c.mlpRatio * c.dModel)) ctx.addIssue({ code: 'custom', path: ['mlpRatio'], message: `mlpRatio * dModel must be an integer, got ${c.mlpRatio * c.dModel}` });
  if (c.positions === 'sinusoidal' && c.dModel % 2 !== 0) ctx.addIssue({ code: 'custom', path: ['dModel'], message: 'sinusoidal positions need an even dModel' });
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
