// Validation of a spec's resources: each kind known, each config valid, every name an operator or a
// resource refers to declared with the kind it needs, and no resource that (through others) needs
// itself. Problems are added to the spec's issue list, each with its path.
import type { z } from 'zod';
import type { SpecIssue } from '../core/errors.ts';
import { resourcesUsed, type ResourceDef, type ResourceFactory } from '../core/resource.ts';
import { safeParseKnown } from '../core/unknown-keys.ts';
import type { Registry } from './registry.ts';
import type { ResourceSpecParsed } from './spec.ts';

export interface ResolvedResource {
  name: string;
  kind: string;
  factory: ResourceFactory;
  def: ResourceDef;
  /** parsed by the kind's zod schema */
  config: unknown;
  /** the other resources its config names */
  uses: Array<{ field: string; name: string; kind: string }>;
}

const issuesOf = (err: z.ZodError, prefix: string): SpecIssue[] =>
  err.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].join('.'), message: i.message }));

export async function resolveResources(
  specs: Record<string, ResourceSpecParsed>,
  registry: Registry,
  issues: SpecIssue[],
) {
  const found = new Map<string, ResolvedResource>();
  for (const [name, r] of Object.entries(specs)) {
    const factory = typeof r.kind === 'string' ? await registry.resource(r.kind) : r.kind;
    if (!factory) {
      issues.push({
        path: `resources.${name}.kind`,
        message: `unknown resource kind "${String(r.kind)}" (known: ${registry.resourceKindNames().join(', ')})`,
      });
      continue;
    }
    const def = factory.resource as ResourceDef;
    // unknown keys refused as in operator configs: a misspelt --set trainer.stpes=20 must not be dropped
    const cfg = safeParseKnown(def.config, r.config);
    if (!cfg.success) {
      issues.push(...issuesOf(cfg.error, `resources.${name}.config`));
      continue;
    }
    found.set(name, { name, kind: def.kind, factory, def, config: cfg.data, uses: [] });
  }

  /** The resources a config names, checked against the declared ones. */
  const usesOf = (schema: z.ZodType, config: unknown, path: string, out: SpecIssue[]) => {
    const uses = resourcesUsed(schema, config);
    for (const u of uses) {
      const r = found.get(u.name);
      if (!r) {
        if (!(u.name in specs))
          out.push({
            path: `${path}.config.${u.field}`,
            message: `no resource named "${u.name}" (declared: ${Object.keys(specs).join(', ') || 'none'}); add it to the spec's resources as a ${u.kind}`,
          });
      } else if (r.kind !== u.kind)
        out.push({
          path: `${path}.config.${u.field}`,
          message: `resource "${u.name}" is a ${r.kind}; ${u.field} needs a ${u.kind}`,
        });
    }
    return uses;
  };
  for (const r of found.values()) r.uses = usesOf(r.def.config, r.config, `resources.${r.name}`, issues);

  // dependency order, refusing cycles
  const resolved = new Map<string, ResolvedResource>();
  const visiting: string[] = [];
  const visit = (name: string): void => {
    if (resolved.has(name)) return;
    const r = found.get(name);
    if (!r) return;
    if (visiting.includes(name)) {
      issues.push({
        path: `resources.${name}`,
        message: `resources refer to each other in a cycle: ${[...visiting.slice(visiting.indexOf(name)), name].join(' -> ')}`,
      });
      return;
    }
    visiting.push(name);
    for (const u of r.uses) visit(u.name);
    visiting.pop();
    if (!resolved.has(name)) resolved.set(name, r);
  };
  for (const name of found.keys()) visit(name);
  return { resolved, usesOf };
}
