// The SFT template: the default is Stanford Alpaca's prompt (its text, from tatsu-lab/stanford_alpaca
// train.py PROMPT_DICT["prompt_no_input"], is written out below as the fixture), placeholders are filled
// once, each side with its own, and a template that cannot work fails validation with the field named.
import { describe, expect, it } from 'vitest';
import { defaultSftTemplate, renderSft, sftTemplateSchema } from '../../../operators/posttrain/sft-template.ts';

// tatsu-lab/stanford_alpaca, train.py: "prompt_no_input"; we add "\n" after "### Response:"
const ALPACA_NO_INPUT =
  'Below is an instruction that describes a task. ' +
  'Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Response:';

const problems = (t: unknown) => {
  const r = sftTemplateSchema.safeParse(t);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('sft template', () => {
  it("defaults to Alpaca's prompt, the response as is, and EOS", () => {
    const t = defaultSftTemplate();
    expect(t.prompt).toBe(`${ALPACA_NO_INPUT.replace('{instruction}', '{prompt}')}\n`);
    expect(t.eos).toBe(true);
    expect(renderSft(t, 'Name a colour.', 'Blue.')).toEqual({
      prompt: ALPACA_NO_INPUT.replace('{instruction}', 'Name a colour.') + '\n',
      response: 'Blue.',
    });
  });

  it('fills {prompt}, {system} and {response}; text inside a record is not expanded', () => {
    const t = sftTemplateSchema.parse({
      prompt: '<sys>{system}</sys><user>{prompt}</user><bot>',
      response: '{response}</bot>',
      system: 'Be brief.',
    });
    expect(renderSft(t, 'say {response} and {system}', 'ok {prompt}')).toEqual({
      prompt: '<sys>Be brief.</sys><user>say {response} and {system}</user><bot>',
      response: 'ok {prompt}</bot>',
    });
    // no system text: {system} is empty; the response placeholder is not filled on the prompt side
    const u = sftTemplateSchema.parse({ prompt: '[{system}] {prompt} {response}' });
    expect(renderSft(u, 'q', 'a').prompt).toBe('[] q {response}');
  });

  it('rejects templates without their placeholder, and a system text with nowhere to go', () => {
    expect(problems({ prompt: 'Q:', response: 'A:' })).toEqual([
      'prompt: the prompt template has no {prompt} placeholder',
      'response: the response template has no {response} placeholder',
    ]);
    expect(problems({ prompt: 'Q: {prompt}\nA:', system: 'x' })).toEqual([
      'system: system text is given but the prompt template has no {system} placeholder to put it',
    ]);
  });
});
