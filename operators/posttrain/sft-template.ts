// The prompt/response template of supervised fine-tuning: how a record's prompt and response become
// the two texts that are tokenized, the first weighed 0 in the loss and the second (with EOS after
// it) weighed 1. Placeholders are {prompt}, {response} and {system}; anything else is literal text.
// Prompt and response are tokenized separately and joined, so the boundary between what is learned
// and what is only read is exact (as Stanford Alpaca's train.py does: source, then target + EOS).
import { z } from 'zod';

/** Stanford Alpaca's prompt without input (tatsu-lab/stanford_alpaca train.py, PROMPT_DICT
 * "prompt_no_input"), with a newline after "### Response:" so the response starts a line. */
export const ALPACA_PROMPT =
  'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{prompt}\n\n### Response:\n';

export const sftTemplateSchema = z
  .object({
    prompt: z
      .string()
      .default(ALPACA_PROMPT)
      .describe("text the model reads (no loss): {prompt} is the record's prompt, {system} the system text"),
    response: z
      .string()
      .default('{response}')
      .describe("text the model learns to write (the loss is on its tokens): {response} is the record's response"),
    eos: z.boolean().default(true).describe("append the encoding's end-of-text token after the response, as a target"),
    system: z
      .string()
      .optional()
      .describe('system text put where the prompt template says {system} (needs {system} in the prompt template)'),
  })
  .superRefine((t, ctx) => {
    if (!t.prompt.includes('{prompt}'))
      ctx.addIssue({ code: 'custom', path: ['prompt'], message: 'the prompt template has no {prompt} placeholder' });
    if (!t.response.includes('{response}'))
      ctx.addIssue({
        code: 'custom',
        path: ['response'],
        message: 'the response template has no {response} placeholder',
      });
    if (t.system !== undefined && !t.prompt.includes('{system}'))
      ctx.addIssue({
        code: 'custom',
        path: ['system'],
        message: 'system text is given but the prompt template has no {system} placeholder to put it',
      });
  });
export type SftTemplate = z.output<typeof sftTemplateSchema>;
export type SftTemplateInput = z.input<typeof sftTemplateSchema>;

/** The default template: Alpaca's prompt, the response as is, EOS after it. */
export const defaultSftTemplate = (): SftTemplate => sftTemplateSchema.parse({});

// One pass over the template: a placeholder inside a record's text is left as it is, and so is one of
// the other side's (the response never reaches the prompt's text).
const fill = (template: string, values: Record<string, string>): string =>
  template.replace(/\{(prompt|response|system)\}/g, (m, k: string) => values[k] ?? m);

/** The two texts of a record: what is read (prompt) and what is learned (response). */
export function renderSft(t: SftTemplate, prompt: string, response: string): { prompt: string; response: string } {
  return { prompt: fill(t.prompt, { prompt, system: t.system ?? '' }), response: fill(t.response, { response }) };
}
