// Validation reports every problem at once, each with its path: the spec's shape (zod), unknown
// operators, invalid configs, dangling nodes, cycles and schema mismatches on edges.
import type { Schema } from 'apache-arrow';
import type { z } from 'zod';
import { SpecError, type SpecIssue } from '../core/errors.ts';
import { defOf, placementOf, type AnyFactory, type AnyOperatorDef } from '../core/operator.ts';
import type { Placement } from '../core/resource.ts';
import type { Budget } from '../core/tickets.ts';
import { safeParseKnown } from '../core/unknown-keys.ts';
import { explainMismatch } from '../schema/compat.ts';
import { Registry, defaultRegistry } from './registry.ts';
import { resolveResources, type ResolvedResource } from './resolve-resources.ts';
import { PipelineSpec, normalizeSpec } from './spec.ts';
import { outputSchema } from './schema-flow.ts';

export interface ResolvedNode {
  id: string;
  factory: AnyFactory;
  def: AnyOperatorDef;
  config: unknown; // parsed by the operator's zod schema
  workers: number;
  budget: Budget;
  inputs: string[];
  outputs: string[];
  /** schema of the batches this node emits (undefined for sinks) */
  schema?: Schema;
  /** where it runs in a run of several ranks (the operator's declared placement) */
  placement: Placement;
  /** the resources its config names */
  uses: Array<{ field: string; name: string; kind: string }>;
  /** sinks that must have finished before this source starts */
  after: string[];
}

export interface ResolvedPipeline {
  name: string;
  budget: Budget;
  nodes: Map<string, ResolvedNode>;
  /** node ids in topological order */
  order: string[];
  /** the spec's resources, in an order where each comes after those it refers to */
  resources: Map<string, ResolvedResource>;
}

const zodIssues = (err: z.ZodError, prefix: (string | number)[]): SpecIssue[] =>
  err.issues.map((i) => ({
    path: [...prefix, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))].join('.') || '(root)',
    message: i.message,
  }));

export async function validatePipeline(
  input: unknown,
  registry: Registry = defaultRegistry,
  source?: string,
): Promise<ResolvedPipeline> {
  const parsed = safeParseKnown(PipelineSpec, input);
  if (!parsed.success) throw new SpecError(zodIssues(parsed.error, []), source);
  const spec = parsed.data;
  const { nodes: rawNodes, edges } = normalizeSpec(spec);
  const base = spec.steps ? 'steps' : 'nodes';
  const pathOf = (id: string) => (spec.steps ? `steps[${spec.steps.findIndex((s) => s.id === id)}]` : `nodes.${id}`);
  const issues: SpecIssue[] = [];
  const nodes = new Map<string, ResolvedNode>();

  if (spec.steps) {
    const seen = new Set<string>();
    spec.steps.forEach((s, i) => {
      if (seen.has(s.id)) issues.push({ path: `steps[${i}].id`, message: `duplicate step id "${s.id}"` });
      seen.add(s.id);
    });
  }
  for (const [id, node] of Object.entries(rawNodes)) {
    const factory = typeof node.op === 'string' ? await registry.get(node.op) : node.op;
    if (!factory) {
      const known = await registry.ids();
      issues.push({
        path: `${pathOf(id)}.op`,
        message: `unknown operator "${String(node.op)}" (known: ${known.join(', ') || 'none'})`,
      });
      continue;
    }
    const def = defOf(factory);
    const cfg = safeParseKnown(def.config, node.config);
    if (!cfg.success) {
      issues.push(...zodIssues(cfg.error, [pathOf(id), 'config']));
      continue;
    }
    if (node.workers && !(def.kind === 'transform' || def.kind === undefined))
      issues.push({
        path: `${pathOf(id)}.workers`,
        message: `operator ${def.id} is a ${def.kind}; only transforms run on workers`,
      });
    else if (node.workers && !('kernel' in def && def.kernel && def.module))
      issues.push({
        path: `${pathOf(id)}.workers`,
        message: `operator ${def.id} is not parallel (it has no kernel/module); remove "workers"`,
      });
    nodes.set(id, {
      id,
      factory,
      def,
      config: cfg.data,
      workers: node.workers ?? 0,
      budget: { ...spec.budget, ...node.budget },
      inputs: [],
      outputs: [],
      placement: placementOf(def),
      uses: [],
      after: node.after ?? [],
    });
  }

  const resources = await resolveResources(spec.resources, registry, issues);
  for (const n of nodes.values()) n.uses = resources.usesOf(n.def.config, n.config, pathOf(n.id), issues);

  const seenEdges = new Map<string, number>();
  edges.forEach((e, i) => {
    const path = spec.steps ? `steps[${i + 1}]` : `edges[${i}]`;
    for (const end of [e.from, e.to])
      if (!(end in rawNodes)) issues.push({ path, message: `edge ${e.from} -> ${e.to} names unknown node "${end}"` });
    // a repeated edge would deliver every batch twice
    const key = `${e.from}\u0000${e.to}`;
    const first = seenEdges.get(key);
    if (first !== undefined) {
      issues.push({ path, message: `duplicate edge ${e.from} -> ${e.to} (also edges[${first}]); remove one` });
      return;
    }
    seenEdges.set(key, i);
    nodes.get(e.from)?.outputs.push(e.to);
    nodes.get(e.to)?.inputs.push(e.from);
  });

  for (const n of nodes.values()) {
    const kind = n.def.kind ?? 'transform';
    if (kind === 'source' && n.inputs.length > 0)
      issues.push({
        path: pathOf(n.id),
        message: `source ${n.def.id} cannot have inputs (from ${n.inputs.join(', ')})`,
      });
    if (kind !== 'source' && n.inputs.length === 0)
      issues.push({
        path: pathOf(n.id),
        message: `dangling node: ${kind} ${n.def.id} has no input; add an edge into it or remove it`,
      });
    if (kind === 'sink' && n.outputs.length > 0)
      issues.push({
        path: pathOf(n.id),
        message: `sink ${n.def.id} has no output to connect (to ${n.outputs.join(', ')})`,
      });
    if (kind === 'source' && n.outputs.length === 0 && nodes.size > 1)
      issues.push({ path: pathOf(n.id), message: `dangling node: source ${n.def.id} feeds nothing` });
  }
  if (nodes.size === 0 && Object.keys(rawNodes).length === 0)
    issues.push({ path: base, message: 'the pipeline has no nodes' });

  checkAfter(nodes, pathOf, issues);
  for (const id of Object.keys(spec.resources))
    if (id in rawNodes)
      issues.push({
        path: `resources.${id}`,
        message: `"${id}" names both a node and a resource; --set ${id}.key=value would be ambiguous: rename one`,
      });

  // Edge schemas are checked along the acyclic part even when there is a cycle, so one report has
  // every problem. A node with an unresolved or unchecked input gets no schema: nothing downstream
  // of it is checked (it would only repeat the first problem).
  const order = topoOrder(nodes);
  if (order.cycle) issues.push({ path: spec.steps ? 'steps' : 'edges', message: `cycle: ${order.cycle.join(' -> ')}` });
  for (const id of order.order) {
    const n = nodes.get(id)!;
    const required = n.def.kind === 'source' ? undefined : n.def.input();
    const ups = n.inputs.map((i) => nodes.get(i)?.schema);
    n.inputs.forEach((from, k) => {
      const up = ups[k];
      if (!up || !required) return;
      const why = explainMismatch(required, up);
      if (why)
        issues.push({
          path: spec.steps ? pathOf(id) : `edges[${edges.findIndex((e) => e.from === from && e.to === id)}]`,
          message: `${from} -> ${id}: ${why}`,
        });
    });
    if (ups.some((u) => u === undefined)) continue;
    n.schema = outputSchema(n.def, n.config, ups[0]);
  }

  if (issues.length > 0) throw new SpecError(issues, source);
  return { name: spec.name, budget: spec.budget, nodes, order: order.order, resources: resources.resolved };
}

/** `after` names sinks of the graph that are not downstream of the source waiting for them. */
function checkAfter(nodes: Map<string, ResolvedNode>, pathOf: (id: string) => string, issues: SpecIssue[]): void {
  for (const n of nodes.values()) {
    if (n.after.length === 0) continue;
    if ((n.def.kind ?? 'transform') !== 'source') {
      issues.push({
        path: `${pathOf(n.id)}.after`,
        message: `only a source can wait for other nodes; ${n.id} is a ${n.def.kind ?? 'transform'}`,
      });
      continue;
    }
    const downstream = new Set<string>();
    const walk = (id: string) => {
      for (const o of nodes.get(id)?.outputs ?? [])
        if (!downstream.has(o)) {
          downstream.add(o);
          walk(o);
        }
    };
    walk(n.id);
    for (const a of n.after) {
      const t = nodes.get(a);
      if (!t)
        issues.push({
          path: `${pathOf(n.id)}.after`,
          message: `no node "${a}" to wait for (nodes: ${[...nodes.keys()].join(', ')})`,
        });
      else if (t.def.kind !== 'sink')
        issues.push({
          path: `${pathOf(n.id)}.after`,
          message: `"${a}" is a ${t.def.kind ?? 'transform'}; a source can wait only for sinks to finish`,
        });
      else if (downstream.has(a))
        issues.push({
          path: `${pathOf(n.id)}.after`,
          message: `"${a}" is fed by ${n.id} itself: waiting for it would never end`,
        });
    }
  }
}

/** Kahn's order of the nodes not on or behind a cycle, and one cycle when there is any. */
function topoOrder(nodes: Map<string, ResolvedNode>): { order: string[]; cycle?: string[] } {
  const indeg = new Map([...nodes].map(([id, n]) => [id, n.inputs.filter((i) => nodes.has(i)).length]));
  const ready = [...indeg].filter(([, d]) => d === 0).map(([id]) => id);
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(id);
    for (const o of nodes.get(id)!.outputs) {
      if (!indeg.has(o)) continue;
      indeg.set(o, indeg.get(o)! - 1);
      if (indeg.get(o) === 0) ready.push(o);
    }
  }
  if (order.length === nodes.size) return { order };
  // walk back along inputs among the unordered nodes until a node repeats: that is a cycle
  const done = new Set(order);
  const left = new Set([...nodes.keys()].filter((id) => !done.has(id)));
  const path: string[] = [];
  let cur = [...left][0]!;
  while (!path.includes(cur)) {
    path.push(cur);
    cur = nodes.get(cur)!.inputs.find((i) => left.has(i))!;
  }
  const cycle = path.slice(path.indexOf(cur)).reverse();
  return { order, cycle: [...cycle, cycle[0]!] };
}
