// Loading a training pipeline module by path (src/ never imports pipelines/): its default export, or
// an export named `train`, is the TrainPipeline function; `config` is the config it trains with.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TrainPipeline } from '../nn/train/trainer.ts';

export interface TrainPipelineModule { run: TrainPipeline; config?: unknown }

/** A module that is not a training pipeline. */
export class NotATrainPipeline extends Error {
  override readonly name = 'NotATrainPipeline';
}

export async function loadTrainModule(file: string): Promise<TrainPipelineModule> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown; train?: unknown; config?: unknown };
  const fn = mod.default ?? mod.train;
  if (typeof fn !== 'function') throw new NotATrainPipeline(`${file} has no default export (or export named "train") that is a function of TrainPipelineOptions`);
  return { run: fn as TrainPipeline, config: mod.config };
}

export const loadTrainPipeline = async (file: string): Promise<TrainPipeline> => (await loadTrainModule(file)).run;
