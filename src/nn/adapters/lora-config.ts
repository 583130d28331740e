// LoRA's settings as a model config field (`lora` in GptConfig), with Hugging Face PEFT's defaults
// (LoraConfig: r 8, lora_alpha 8, lora_dropout 0, use_rslora false).
import { z } from 'zod';

/** The projections LoRA can adapt, by their name inside a block (GPT-2 Conv1D tensors). */
export const LORA_TARGETS = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export const loraConfigSchema = z
  .object({
    r: z.number().int().min(1).default(8).describe('rank of the update B A'),
    alpha: z.number().positive().default(8).describe("PEFT's lora_alpha: the update is scaled by alpha / r"),
    dropout: z.number().min(0).lt(1).default(0).describe('dropout rate on the adapter input (training only); 0: none'),
    targets: z
      .array(z.enum(LORA_TARGETS))
      .min(1)
      .default(['attn.c_attn'])
      .describe('the projections of every block that get an adapter'),
    rslora: z.boolean().default(false).describe('rank-stabilised LoRA: scale by alpha / sqrt(r) instead of alpha / r'),
    freezeBase: z
      .boolean()
      .default(true)
      .describe('false trains the base weights too (no longer parameter-efficient; optimizer state for all)'),
  })
  .strict();

export type LoraConfigInput = z.input<typeof loraConfigSchema>;
export type LoraConfig = z.output<typeof loraConfigSchema>;

/** The factor on B A x: alpha / r, or alpha / sqrt(r) with rsLoRA (PEFT's `scaling`). */
export const loraScale = (c: LoraConfig): number => (c.rslora ? c.alpha / Math.sqrt(c.r) : c.alpha / c.r);
