// Validation of the pair objectives on held-out pairs: the objective's loss over all pairs of at most
// `maxBatches` micro-batches (each pair weighs the same), and how often the chosen half wins: the
// reward model's accuracy (score of chosen > rejected), or DPO's implicit-reward accuracy and mean
// margin (beta times the log-ratio gap, dpo.ts). The loss is the training loss without dropout.
import type { Gpt } from '../model/gpt.ts';
import type { PackedBatch } from '../objective/loss.ts';
import { dpoStats } from '../objective/dpo.ts';
import { rewardLossValue } from '../objective/reward.ts';
import { pairValues, type PairObjective } from '../train/pair-objective.ts';
import type { EvalResult } from './evaluate.ts';

export interface PreferenceEvalResult extends EvalResult {
  objective: 'reward' | 'dpo';
  /** share of pairs whose chosen half scores higher (ties count as wrong) */
  accuracy: number;
  /** mean score gap chosen - rejected (DPO: of the implicit rewards beta (logp - ref)) */
  margin: number;
  pairs: number;
}

export const isPreferenceResult = (r: EvalResult): r is PreferenceEvalResult =>
  (r as Partial<PreferenceEvalResult>).objective !== undefined;

export async function evaluatePairs(
  model: Gpt,
  batches: AsyncIterable<PackedBatch>,
  maxBatches: number,
  obj: PairObjective,
): Promise<PreferenceEvalResult> {
  const chosen: number[] = [];
  const rejected: number[] = [];
  const refChosen: number[] = [];
  const refRejected: number[] = [];
  let tokens = 0;
  let n = 0;
  for await (const b of batches) {
    if (n >= maxBatches) break;
    const v = pairValues(model, b, obj);
    chosen.push(...v.chosen);
    rejected.push(...v.rejected);
    if (v.refChosen) refChosen.push(...v.refChosen);
    if (v.refRejected) refRejected.push(...v.refRejected);
    tokens += v.tokens;
    n++;
  }
  if (n === 0)
    throw new Error('evaluate: the validation data yielded no pairs; give data.val or a larger data.holdoutRows');
  // perplexity is of text; a pair objective has none
  const common = { objective: obj.kind, perplexity: Number.NaN, batches: n, tokens, pairs: chosen.length };
  if (obj.kind === 'reward') {
    const margins = obj.margin ? new Float64Array(chosen.length).fill(obj.margin) : undefined;
    const r = rewardLossValue(chosen, rejected, margins);
    return { ...common, loss: r.loss, accuracy: r.accuracy, margin: r.margin };
  }
  const s = dpoStats(
    { policyChosen: chosen, policyRejected: rejected, refChosen, refRejected },
    { beta: obj.beta, labelSmoothing: obj.labelSmoothing },
  );
  return { ...common, loss: s.loss, accuracy: s.rewardAccuracy, margin: s.rewardMargin };
}
