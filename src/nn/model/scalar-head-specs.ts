// A scalar head's kinds, tensor names and parameter shapes (scalar-head.ts has the head itself): plain
// TypeScript without tfjs, so the parameter list (params.ts) and the plans and budgets built from it
// load no tensor library.
import type { ParamSpec } from './params.ts';

export type ScalarHeadKind = 'reward_head' | 'value_head';

/** A head parameter's spec. The intersection keeps `adapter` required here whatever ParamSpec says. */
export type ScalarHeadSpec = ParamSpec & { adapter: ScalarHeadKind };

/** Tensor names: `score` as Hugging Face's sequence-classification models, `value_head` as TRL's. */
export const scalarHeadPrefix = (kind: ScalarHeadKind): string => (kind === 'reward_head' ? 'score' : 'value_head');

/** The head's parameters, Conv1D layout like the rest of the model: weight [d, 1], bias [1]. */
export function scalarHeadSpecs(d: number, kind: ScalarHeadKind, std = 0.02): ScalarHeadSpec[] {
  if (!Number.isInteger(d) || d <= 0) throw new Error(`scalar head: model width ${d} must be a positive integer`);
  const p = scalarHeadPrefix(kind);
  return [
    { name: `${p}.weight`, shape: [d, 1], kind: 'weight', init: { normal: std }, adapter: kind },
    { name: `${p}.bias`, shape: [1], kind: 'bias', init: 'zeros', adapter: kind },
  ];
}
