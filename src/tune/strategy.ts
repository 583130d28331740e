// A study's sampler and pruner from their names and options (as stored with the study, so a resumed
// study searches exactly as it started).
import { ashaPruner } from './pruners/asha.ts';
import { medianPruner } from './pruners/median.ts';
import { gridSampler } from './samplers/grid.ts';
import { randomSampler } from './samplers/random.ts';
import { tpeSampler } from './samplers/tpe.ts';
import type { Direction, Pruner, Sampler, SearchSpace } from './types.ts';

export const SAMPLERS = ['tpe', 'random', 'grid'] as const;
export const PRUNERS = ['median', 'asha', 'none'] as const;
export type SamplerName = (typeof SAMPLERS)[number];
export type PrunerName = (typeof PRUNERS)[number];
export type Options = Record<string, number | string | boolean>;

export class StrategyError extends Error {
  override name = 'StrategyError';
}

const KNOWN: Record<SamplerName | PrunerName, readonly string[]> = {
  tpe: ['nStartupTrials', 'nEiCandidates', 'priorWeight', 'considerMagicClip', 'considerEndpoints'],
  random: [],
  grid: ['points'],
  median: ['nStartupTrials', 'nWarmupSteps', 'intervalSteps', 'nMinTrials'],
  asha: ['minResource', 'reductionFactor', 'minEarlyStoppingRate', 'bootstrapCount'],
  none: [],
};

function checked(name: SamplerName | PrunerName, opts: Options): Options {
  for (const k of Object.keys(opts))
    if (!KNOWN[name].includes(k))
      throw new StrategyError(
        `${name} has no option "${k}"${KNOWN[name].length ? ` (options: ${KNOWN[name].join(', ')})` : ' (it takes none)'}`,
      );
  return opts;
}

export function makeSampler(
  name: SamplerName,
  space: SearchSpace,
  o: { seed: number; direction: Direction; options: Options },
): Sampler {
  const opts = checked(name, o.options);
  if (name === 'random') return randomSampler({ seed: o.seed });
  if (name === 'grid') return gridSampler(space, { ...opts, seed: o.seed });
  return tpeSampler({ ...opts, seed: o.seed, direction: o.direction });
}

export function makePruner(name: PrunerName, o: { direction: Direction; options: Options }): Pruner | undefined {
  const opts = checked(name, o.options);
  if (name === 'none') return undefined;
  if (name === 'asha') return ashaPruner({ ...opts, direction: o.direction });
  return medianPruner({ ...opts, direction: o.direction });
}
