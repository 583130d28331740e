// The search space file: what parses, and what is refused with a message naming the key and the rule.
import { describe, expect, it } from 'vitest';
import { parseSearchSpace, searchSpaceSchema } from '../../src/tune/space.ts';

describe('parseSearchSpace', () => {
  it('parses every kind of distribution', () => {
    const text = JSON.stringify({
      'optimizer.lr': { type: 'log-uniform', low: 1e-4, high: 1e-2 },
      'optimizer.beta2': { type: 'uniform', low: 0.9, high: 0.999 },
      'model.nLayer': { type: 'int', low: 2, high: 8 },
      'data.batch': { type: 'int', low: 8, high: 512, log: true },
      'trainer.warmup': { type: 'int', low: 0, high: 1000, step: 250 },
      'model.act': { type: 'categorical', choices: ['gelu', 'relu'] },
      'model.bias': { type: 'categorical', choices: [true, false] },
    });
    expect(parseSearchSpace(text)).toEqual(JSON.parse(text));
  });

  const refused: [string, unknown, RegExp][] = [
    ['low >= high', { a: { type: 'uniform', low: 1, high: 1 } }, /a: uniform: low must be < high/],
    [
      'log with low 0',
      { 'optimizer.lr': { type: 'log-uniform', low: 0, high: 1 } },
      /optimizer\.lr: log-uniform: low must be > 0/,
    ],
    ['negative log low', { a: { type: 'log-uniform', low: -1, high: 1 } }, /low must be > 0/],
    ['fractional int bound', { a: { type: 'int', low: 0.5, high: 4 } }, /a\.low: .*int/i],
    ['step not dividing the range', { a: { type: 'int', low: 0, high: 10, step: 3 } }, /multiple of step/],
    ['zero step', { a: { type: 'int', low: 0, high: 10, step: 0 } }, /a\.step/],
    ['log int from 0', { a: { type: 'int', low: 0, high: 10, log: true } }, /int with log: low must be >= 1/],
    ['log int with a step', { a: { type: 'int', low: 1, high: 9, step: 2, log: true } }, /step must be 1/],
    ['empty choices', { a: { type: 'categorical', choices: [] } }, /choices must not be empty/],
    ['repeated choices', { a: { type: 'categorical', choices: [1, 1] } }, /distinct/],
    ['unknown type', { a: { type: 'normal', low: 0, high: 1 } }, /a\.type/],
    ['misspelt field', { a: { type: 'uniform', low: 0, hgih: 1 } }, /a/],
    ['no parameters', {}, /no parameters/],
    ['non-finite bound', { a: { type: 'uniform', low: 0, high: 'inf' } }, /a\.high/],
  ];
  for (const [what, json, message] of refused)
    it(`refuses ${what}`, () => {
      expect(searchSpaceSchema.safeParse(json).success).toBe(false);
      expect(() => parseSearchSpace(JSON.stringify(json), 'space.json')).toThrow(message);
      expect(() => parseSearchSpace(JSON.stringify(json), 'space.json')).toThrow(/^space\.json: invalid search space/);
    });

  it('names the file when the JSON itself is broken', () => {
    expect(() => parseSearchSpace('{"a": ', 'tune/space.json')).toThrow(/tune\/space\.json: not valid JSON/);
  });
});
