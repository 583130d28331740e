// `flowlm plan`'s logic, and the plan `flowlm run`/`flowlm train` execute: load a spec file, apply
// --set, validate, resolve the devices (a spec with a replicated training chain runs on --devices,
// default auto; any other spec on this process), and make the physical plan.
import { SpecError, type SpecIssue } from '../core/errors.ts';
import { applyOverrides, loadSpecFile, splitParams, withBudget } from '../graph/load.ts';
import { defaultRegistry, type Registry } from '../graph/registry.ts';
import { validatePipeline, type ResolvedPipeline } from '../graph/validate.ts';
import { devicesFor, type DeviceProbe, type ResolvedDevices } from './devices.ts';
import { isReplicated, physicalPlan } from './physical-plan.ts';
import type { PhysicalPlan } from './plan-types.ts';

export interface PlanOptions {
  /** node.key=value or resource.key=value config overrides */
  sets?: string[];
  /** where a replicated graph runs (default auto); refused for a graph with nothing to replicate */
  devices?: string;
  /** the pipeline-wide credit budget */
  budget?: { maxInFlight?: number; maxInFlightBytes?: number };
  registry?: Registry;
  probe?: Partial<DeviceProbe>;
}

/** A plan that cannot be made from valid input (devices given to a graph with no replicated part). */
export class PlanError extends Error {
  override readonly name = 'PlanError';
}

/** The spec validated with its overrides (SpecError listing every problem). */
export async function resolveSpecFile(file: string, o: PlanOptions = {}): Promise<ResolvedPipeline> {
  const split = splitParams(o.sets ?? []);
  if (split.issues.length > 0) throw new SpecError(split.issues, file);
  const loaded = await loadSpecFile(file, split.params);
  const { spec, issues } = applyOverrides(loaded, split.rest);
  let found: SpecIssue[] = [];
  try {
    const resolved = await validatePipeline(withBudget(spec, o.budget ?? {}), o.registry ?? defaultRegistry, file);
    if (issues.length === 0) return resolved;
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    found = err.issues;
  }
  throw new SpecError([...issues, ...found], file);
}

/** The devices a validated spec runs on. */
export async function devicesOf(
  file: string,
  p: ResolvedPipeline,
  devices: string | undefined,
  probe?: Partial<DeviceProbe>,
): Promise<ResolvedDevices | undefined> {
  if (!isReplicated(p)) {
    if (devices !== undefined)
      throw new PlanError(
        `--devices applies to graphs with a replicated training chain; ${file} has none (its parallelism is each ` +
          `node's "workers")`,
      );
    return undefined;
  }
  return devicesFor(devices ?? 'auto', probe);
}

export async function planFile(file: string, o: PlanOptions = {}): Promise<PhysicalPlan> {
  const resolved = await resolveSpecFile(file, o);
  return physicalPlan(file, resolved, await devicesOf(file, resolved, o.devices, o.probe));
}
