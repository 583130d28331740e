// PipelineSpec: a pipeline as data. Nodes name an operator (by registry id, or in a TypeScript spec
// the factory itself) and its config; edges connect them. `steps` is the linear shorthand.
import { z } from 'zod';
import type { AnyFactory } from '../core/operator.ts';
import { isResourceFactory, type ResourceFactory } from '../core/resource.ts';
import { DEFAULT_BUDGET } from '../core/tickets.ts';

const isFactory = (v: unknown): v is AnyFactory =>
  typeof v === 'function' && typeof (v as { def?: { id?: unknown } }).def?.id === 'string';

export const OpRef = z.union([
  z.string().min(1),
  z.custom<AnyFactory>(isFactory, {
    message: 'expected an operator id or a factory made by defineOperator/defineSource/defineSink',
  }),
]);

const maxInFlight = z.number().int().min(1);
const maxInFlightBytes = z.number().int().min(1);

export const BudgetSpec = z.object({
  maxInFlight: maxInFlight.default(DEFAULT_BUDGET.maxInFlight),
  maxInFlightBytes: maxInFlightBytes.default(DEFAULT_BUDGET.maxInFlightBytes),
});

/** A node's override: only the fields it gives (defaults here would mask the pipeline's budget). */
const NodeBudgetSpec = z.object({ maxInFlight: maxInFlight.optional(), maxInFlightBytes: maxInFlightBytes.optional() });

export const NodeSpec = z.object({
  op: OpRef,
  config: z.record(z.string(), z.unknown()).default({}),
  /** run a parallel operator's kernel on this many worker threads (0: inline) */
  workers: z.number().int().min(0).max(256).optional(),
  /** a source's own credit budget, overriding the pipeline's */
  budget: NodeBudgetSpec.optional(),
  /** a source that starts only when these sinks have finished (a blocking exchange: e.g. training
   * from the shards a sink of the same graph writes) */
  after: z.array(z.string()).optional(),
});

const NodeId = z
  .string()
  .regex(/^[A-Za-z_][\w-]*$/, 'node ids are letters, digits, _ and -, starting with a letter or _');

export const EdgeSpec = z.union([z.tuple([NodeId, NodeId]), z.object({ from: NodeId, to: NodeId })]);

/** A named resource: its kind (a registered kind such as "nn/gpt", or in a TypeScript spec the
 * factory made by defineResource) and its config. */
export const ResourceSpec = z.object({
  kind: z.union([
    z.string().min(1),
    z.custom<ResourceFactory>(isResourceFactory, {
      message: 'expected a resource kind or a factory made by defineResource',
    }),
  ]),
  config: z.record(z.string(), z.unknown()).default({}),
});

export const PipelineSpec = z
  .object({
    name: z.string().default('pipeline'),
    description: z.string().optional(),
    budget: BudgetSpec.default(DEFAULT_BUDGET),
    /** long-lived state operators refer to by name (a model, an optimizer, a training replica) */
    resources: z.record(NodeId, ResourceSpec).default({}),
    nodes: z.record(NodeId, NodeSpec).optional(),
    edges: z.array(EdgeSpec).default([]),
    steps: z.array(NodeSpec.extend({ id: NodeId })).optional(),
  })
  .superRefine((s, ctx) => {
    if (!s.nodes && !s.steps)
      ctx.addIssue({ code: 'custom', message: 'a pipeline needs "nodes" (with "edges") or "steps"', path: ['nodes'] });
    if (s.nodes && s.steps)
      ctx.addIssue({
        code: 'custom',
        message: 'give "nodes"/"edges" or the "steps" shorthand, not both',
        path: ['steps'],
      });
  });

export type PipelineSpecInput = z.input<typeof PipelineSpec>;
export type PipelineSpecParsed = z.output<typeof PipelineSpec>;
export type NodeSpecParsed = z.output<typeof NodeSpec>;
export type ResourceSpecParsed = z.output<typeof ResourceSpec>;

/** Identity with types: `export default pipeline({...})` in a TypeScript spec gets completion and checks. */
export function pipeline(spec: PipelineSpecInput): PipelineSpecInput {
  return spec;
}

/** The graph form of a spec: `steps` expanded into nodes and a chain of edges. */
export function normalizeSpec(s: PipelineSpecParsed): {
  nodes: Record<string, NodeSpecParsed>;
  edges: Array<{ from: string; to: string }>;
} {
  if (s.steps) {
    const nodes: Record<string, NodeSpecParsed> = {};
    for (const { id, ...node } of s.steps) nodes[id] = node;
    const edges = s.steps.slice(1).map((step, i) => ({ from: s.steps![i]!.id, to: step.id }));
    return { nodes, edges };
  }
  return { nodes: s.nodes ?? {}, edges: s.edges.map((e) => (Array.isArray(e) ? { from: e[0], to: e[1] } : e)) };
}
