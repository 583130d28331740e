// `nn/gpt`: the model's shape and regularisers (src/nn/model/config.ts), as a named preset with the
// fields that differ laid over it. The resource is the validated description; the trainer builds the
// tensors (fresh from the seed, or from a checkpoint when resuming) once per replica.
import { z } from 'zod';
import { defineResource } from '../../core/resource.ts';
import { GPT_PRESETS, gptConfig, gptConfigSchema, type GptConfig, type GptConfigInput } from '../model/config.ts';

type Field = z.ZodType & { def: { type: string; innerType?: z.ZodType }; description?: string };

/** Every GPT config field, optional and without its default (a preset's value must not be masked). */
const fields = Object.fromEntries(
  Object.entries(gptConfigSchema.shape).map(([k, v]) => {
    const f = v as unknown as Field;
    const inner = f.def.type === 'default' && f.def.innerType ? f.def.innerType : f;
    // the description (src/nn/model/config.ts) sits on the outermost schema: the default, when there is one
    const description = f.description ?? inner.description;
    return [k, description ? inner.optional().describe(description) : inner.optional()];
  }),
) as { [K in keyof typeof gptConfigSchema.shape]: z.ZodOptional<z.ZodType> };

const Config = z
  .object({
    preset: z
      .enum(Object.keys(GPT_PRESETS) as [keyof typeof GPT_PRESETS, ...(keyof typeof GPT_PRESETS)[]])
      .optional()
      .describe(
        'a named shape (tiny: vocab 50257, context 128, 4 layers x 4 heads, d 128; micro: vocab 4096, 2 x 4, d 64) ' +
          'the other fields are laid over',
      ),
    ...fields,
  })
  .superRefine((c, ctx) => {
    const r = gptConfigSchema.safeParse(merged(c));
    if (!r.success)
      for (const i of r.error.issues) ctx.addIssue({ ...i, code: 'custom', message: i.message, path: i.path });
  });

export type GptResourceConfig = z.output<typeof Config>;

function merged(c: GptResourceConfig): GptConfigInput {
  const { preset, ...rest } = c;
  const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return { ...(preset ? GPT_PRESETS[preset] : {}), ...given } as GptConfigInput;
}

export interface GptResource {
  preset?: keyof typeof GPT_PRESETS;
  /** the fields given besides the preset (what a training config's `model` holds) */
  fields: Record<string, unknown>;
  /** the whole validated config */
  config: GptConfig;
}

export const gptResource = defineResource({
  kind: 'nn/gpt',
  description:
    'a GPT: a preset shape and/or every GPT config field (vocabSize, contextLength, nLayer, nHead, dModel, dropout, ' +
    'docMasking, ...)',
  config: Config,
  open: (c): GptResource => {
    const { preset, ...rest } = c;
    return {
      preset,
      fields: Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
      config: gptConfig(merged(c)),
    };
  },
  describe: (c) => {
    const m = gptConfig(merged(c));
    return `GPT ${c.preset ? `${c.preset}: ` : ''}vocab ${m.vocabSize}, context ${m.contextLength}, ${m.nLayer} layers x ${m.nHead} heads, d_model ${m.dModel}`;
  },
});
