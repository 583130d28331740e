// The search space file: JSON mapping each --set key to a distribution, e.g.
//   {"optimizer.lr": {"type": "log-uniform", "low": 1e-4, "high": 1e-2}, "model.nLayer": {"type": "int", "low": 2, "high": 8}}
// Validated here so that samplers can assume well-formed bounds (Optuna raises the same errors).
import { z } from 'zod';
import type { Distribution, SearchSpace } from './types.ts';

const finite = z.number().finite();
const paramValue = z.union([finite, z.string(), z.boolean()]);

const uniform = z
  .strictObject({ type: z.literal('uniform'), low: finite, high: finite })
  .refine((d) => d.low < d.high, {
    message: 'uniform: low must be < high',
  });

const logUniform = z
  .strictObject({ type: z.literal('log-uniform'), low: finite, high: finite })
  .refine((d) => d.low > 0, { message: 'log-uniform: low must be > 0 (the log of the bounds is taken)' })
  .refine((d) => d.low < d.high, { message: 'log-uniform: low must be < high' });

const int = z
  .strictObject({
    type: z.literal('int'),
    low: z.number().int(),
    high: z.number().int(),
    step: z.number().int().positive().optional(),
    log: z.boolean().optional(),
  })
  .refine((d) => d.low <= d.high, { message: 'int: low must be <= high' })
  .refine((d) => !d.log || d.low >= 1, { message: 'int with log: low must be >= 1' })
  .refine((d) => !d.log || d.step === undefined || d.step === 1, {
    message: 'int with log: step must be 1 (or omitted), as in Optuna',
  })
  .refine((d) => (d.high - d.low) % (d.step ?? 1) === 0, {
    message: 'int: high - low must be a multiple of step (e.g. low 16, high 256, step 16)',
  });

const categorical = z
  .strictObject({ type: z.literal('categorical'), choices: z.array(paramValue) })
  .refine((d) => d.choices.length > 0, { message: 'categorical: choices must not be empty' })
  .refine((d) => new Set(d.choices).size === d.choices.length, { message: 'categorical: choices must be distinct' });

export const distributionSchema: z.ZodType<Distribution> = z.discriminatedUnion('type', [
  uniform,
  logUniform,
  int,
  categorical,
]);

export const searchSpaceSchema: z.ZodType<SearchSpace> = z
  .record(z.string().min(1), distributionSchema)
  .refine((s) => Object.keys(s).length > 0, { message: 'the search space has no parameters' });

/** A search space from the text of a JSON space file; errors name the file and the offending key. */
export function parseSearchSpace(text: string, where = 'search space'): SearchSpace {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
  }
  const r = searchSpaceSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top)'}: ${i.message}`);
    throw new Error(
      `${where}: invalid search space:\n  ${issues.join('\n  ')}\n` +
        'each key maps to {"type": "uniform"|"log-uniform", "low", "high"}, {"type": "int", "low", "high", "step"?, "log"?} ' +
        'or {"type": "categorical", "choices": [...]}',
    );
  }
  return r.data;
}
