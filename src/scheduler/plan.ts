// `flowlm plan`'s logic: load a pipeline file without running it and build its physical plan. A
// training pipeline module (a default export taking TrainPipelineOptions, with its `config`) gets the
// training plan on the --devices it would use; anything else is a data pipeline spec, loaded and
// validated as `flowlm run` does.
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SpecError, type SpecIssue } from '../core/errors.ts';
import { applyOverrides as applySpecOverrides, loadSpecFile, withBudget } from '../graph/load.ts';
import { defaultRegistry, type Registry } from '../graph/registry.ts';
import { validatePipeline } from '../graph/validate.ts';
import { applyOverrides, trainConfigSchema } from '../nn/train/train-config.ts';
import { dataPlan } from './data-plan.ts';
import { devicesFor, type DeviceProbe } from './devices.ts';
import type { PhysicalPlan } from './plan-types.ts';
import { trainPlan } from './train-plan.ts';

export interface PlanOptions {
  /** training: key=value config overrides; data: node.key=value config overrides */
  sets?: string[];
  /** training only (default auto) */
  devices?: string;
  /** data only: the pipeline-wide credit budget */
  budget?: { maxInFlight?: number; maxInFlightBytes?: number };
  registry?: Registry;
  probe?: Partial<DeviceProbe>;
}

/** A training pipeline module whose config cannot be planned (missing, or invalid after --set). */
export class PlanError extends Error {
  override readonly name = 'PlanError';
}

const MODULE = /^\.(m|c)?(t|j)s$/;

/** The module's training config when it is a training pipeline (a function of one argument, the
 * TrainPipelineOptions); undefined for anything else. */
async function trainingModule(abs: string): Promise<{ config: unknown } | undefined> {
  if (!MODULE.test(extname(abs))) return undefined;
  let mod: Record<string, unknown>;
  try { mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>; } catch { return undefined; } // loadSpecFile reports it
  const fn = mod.default ?? mod.train;
  // a spec module's function builds the spec and takes nothing; a training pipeline takes its options
  if (typeof fn !== 'function' || 'def' in fn || fn.length < 1) return undefined;
  return { config: mod.config };
}

export async function planFile(file: string, o: PlanOptions = {}): Promise<PhysicalPlan> {
  const abs = resolve(file);
  const sets = o.sets ?? [];
  const training = await trainingModule(abs);
  if (training) {
    if (typeof training.config !== 'object' || training.config === null) {
      throw new PlanError(`${file} is a training pipeline but exports no \`config\` (export const config: TrainConfigInput = {...}); flowlm plan reads it`);
    }
    let input: unknown;
    try { input = applyOverrides(training.config as Parameters<typeof applyOverrides>[0], sets); } catch (err) {
      throw new PlanError(err instanceof Error ? err.message : String(err)); // a malformed --set
    }
    const parsed = trainConfigSchema.safeParse(input);
    if (!parsed.success) {
      throw new PlanError(`${file}: invalid training config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    return trainPlan(file, parsed.data, await devicesFor(o.devices ?? 'auto', o.probe));
  }
  if (o.devices !== undefined) throw new PlanError(`--devices applies to training pipelines; ${file} is a data pipeline spec (its parallelism is each node's "workers")`);
  const loaded = await loadSpecFile(file);
  const { spec, issues } = applySpecOverrides(loaded, sets);
  let found: SpecIssue[] = [];
  try {
    const resolved = await validatePipeline(withBudget(spec, o.budget ?? {}), o.registry ?? defaultRegistry, file);
    if (issues.length === 0) return dataPlan(file, resolved);
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    found = err.issues;
  }
  throw new SpecError([...issues, ...found], file);
}
