// A node's credit budget: the spec's (the pipeline's, or the node's own), capped by what its operator
// allows — e.g. the training chain's data source keeps one optimizer step in flight whatever the budget.
import type { Budget } from '../core/tickets.ts';
import type { ResolvedNode } from './validate.ts';

/** The credits a node issues: sources, and transforms that open their own credit scope (`credits`). */
export function creditsOf(n: ResolvedNode): Budget | undefined {
  const kind = n.def.kind ?? 'transform';
  const cap = n.def.credits;
  if (kind !== 'source' && !cap) return undefined;
  return {
    maxInFlight: Math.min(n.budget.maxInFlight, cap?.maxInFlight ?? Infinity),
    maxInFlightBytes: Math.min(n.budget.maxInFlightBytes, cap?.maxInFlightBytes ?? Infinity),
  };
}
