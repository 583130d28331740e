// What a training run executes, by path (src/ never imports pipelines/): a spec file (.ts/.js
// default export — a spec, or a function of the spec's parameters returning one — or .json) whose graph
// holds a training chain, run by the scheduler's graph runner; or, for tests and custom launchers, a
// module with a named export `train`, a TrainPipeline function of TrainPipelineOptions.
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TrainPipeline } from '../nn/train/trainer.ts';
import { graphTrainPipeline } from './graph-run.ts';
import type { PhysicalPlan } from './plan-types.ts';

export interface TrainPipelineModule {
  run: TrainPipeline;
}

/** A file that is neither a spec nor a TrainPipeline module. */
export class NotATrainPipeline extends Error {
  override readonly name = 'NotATrainPipeline';
}

const isPipelineFunction = (fn: unknown): fn is TrainPipeline =>
  typeof fn === 'function' && !('def' in fn) && fn.length >= 1;

export async function loadTrainModule(file: string, plan?: PhysicalPlan): Promise<TrainPipelineModule> {
  if (extname(file) === '.json') return { run: graphTrainPipeline(file, plan) };
  const mod = (await import(pathToFileURL(resolve(file)).href)) as {
    default?: unknown;
    train?: unknown;
    pipeline?: unknown;
  };
  if (isPipelineFunction(mod.train)) return { run: mod.train };
  if (mod.default === undefined && mod.pipeline === undefined)
    throw new NotATrainPipeline(
      `${file} exports no spec (export default pipeline({...})) and no TrainPipeline function`,
    );
  return { run: graphTrainPipeline(file, plan) };
}

/** Whether the file is a spec (run by the graph runner) or a TrainPipeline function module. */
export async function trainModuleKind(file: string): Promise<'spec' | 'function'> {
  if (extname(file) === '.json') return 'spec';
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { train?: unknown };
  return isPipelineFunction(mod.train) ? 'function' : 'spec';
}

export const loadTrainPipeline = async (file: string, plan?: PhysicalPlan): Promise<TrainPipeline> =>
  (await loadTrainModule(file, plan)).run;
