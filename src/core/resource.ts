// Resources (DESIGN.md §9): long-lived state that batches do not carry — a model, an optimizer, a
// training replica, a tokenizer. A spec declares them by name with a kind and a zod-validated config;
// operators name them in their config (`resourceRef`), and the runtime builds each one once per
// process (or per device replica) before the graph starts and disposes of it when the run ends.
import { z } from 'zod';
import type { ConfigSchema } from './operator.ts';

/** Where a resource or an operator instance runs in a run of several ranks. */
export type Placement =
  /** on every data-parallel replica (forward-backward, all-reduce, optimizer step, the rank's data) */
  | 'replica'
  /** on rank 0 alone (metrics, reports); other ranks pass batches through (transforms) or drop them (sinks) */
  | 'rank0'
  /** a pure kernel the worker pool may run (with `workers` in the spec) */
  | 'workers'
  /** wherever its input is, inline */
  | 'any';

export const PLACEMENTS: readonly Placement[] = ['replica', 'rank0', 'workers', 'any'];

/** What building a resource may use: the other resources (by name), the process's place in the run. */
export interface ResourceScope {
  readonly rank: number;
  readonly worldSize: number;
  /** the run's abort signal */
  readonly signal: AbortSignal;
  /** the collective group of a data-parallel run (opaque here: src/nn/train/dist.ts gives it a type) */
  readonly group?: unknown;
  /** another resource of the spec, built first (resources may refer to resources declared in any order) */
  get<T>(name: string, kind?: string): Promise<T>;
  /** whether the run continues from its last checkpoint (flowlm run/train --resume) */
  readonly resume: boolean;
  /** the command's hooks: a graceful stop (after the current training step, with a checkpoint) and
   * per-step progress for the terminal (rank 0) */
  readonly hooks: RunHooks;
  log(message: string): void;
}

export interface RunHooks {
  /** aborted: stop after the current step, with a checkpoint (SIGINT/SIGTERM of flowlm run/train) */
  stop?: AbortSignal;
  /** a training step's progress (src/nn/train/trainer.ts StepProgress) */
  onStep?(progress: unknown): void;
}

export interface ResourceDef<C extends ConfigSchema = ConfigSchema, T = unknown> {
  /** e.g. "nn/gpt": the name a spec's `kind` uses */
  kind: string;
  description: string;
  config: C;
  /** fields of the config that name other resources (see resourceRef) are found from the schema */
  open(config: z.output<C>, scope: ResourceScope): T | Promise<T>;
  dispose?(instance: T): void | Promise<void>;
  /** one line for the physical plan */
  describe?(config: z.output<C>): string;
}

export type ResourceFactory<C extends ConfigSchema = ConfigSchema, T = unknown> = {
  readonly resource: ResourceDef<C, T>;
};

export function defineResource<C extends ConfigSchema, T>(def: ResourceDef<C, T>): ResourceFactory<C, T> {
  return { resource: def };
}

export const isResourceFactory = (v: unknown): v is ResourceFactory =>
  typeof v === 'object' && v !== null && typeof (v as { resource?: { kind?: unknown } }).resource?.kind === 'string';

// A config field that names a resource: a string at parse time, found by validation through this map.
const refKinds = new WeakMap<z.ZodType, string>();

/** A config field holding the name of a resource of `kind` declared in the spec's `resources`. */
export function resourceRef(kind: string, description?: string): z.ZodString {
  const s = z
    .string()
    .min(1)
    .describe(description ?? `name of a ${kind} resource in the spec's resources`);
  refKinds.set(s, kind);
  return s;
}

/** The resource fields of an operator's (object) config schema: field name -> required kind. */
export function resourceFields(schema: z.ZodType): Map<string, string> {
  const out = new Map<string, string>();
  const shape = objectShape(schema);
  if (!shape) return out;
  for (const [key, field] of Object.entries(shape)) {
    const kind = refKinds.get(unwrap(field));
    if (kind) out.set(key, kind);
  }
  return out;
}

type Wrapper = { def?: { innerType?: z.ZodType; in?: z.ZodType; type?: string } };

/** The schema under optional/default/nullable/pipe wrappers. */
export function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let i = 0; i < 16; i++) {
    const d = (cur as unknown as Wrapper).def;
    const next = d?.innerType ?? (d?.type === 'pipe' ? d.in : undefined);
    if (!next) return cur;
    cur = next;
  }
  return cur;
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const s = unwrap(schema) as unknown as { def?: { type?: string }; shape?: Record<string, z.ZodType> };
  return s.def?.type === 'object' ? s.shape : undefined;
}

/** The resources an operator's config uses, as (name, kind). */
export function resourcesUsed(
  schema: z.ZodType,
  config: unknown,
): Array<{ field: string; name: string; kind: string }> {
  const out: Array<{ field: string; name: string; kind: string }> = [];
  if (typeof config !== 'object' || config === null) return out;
  for (const [field, kind] of resourceFields(schema)) {
    const name = (config as Record<string, unknown>)[field];
    if (typeof name === 'string') out.push({ field, name, kind });
  }
  return out;
}
