// A multiple-choice task as lm-evaluation-harness scores one (its `multiple_choice` output type): one
// log-likelihood request per choice, the same context for each; the prediction is the choice the model
// finds most likely. `acc` compares raw log-likelihoods, which favours short choices; `acc_norm` divides
// each by the choice's length in characters (lm-eval's `completion_len = len(choice)`, in
// lm_eval/api/task.py process_results), which removes most of that bias. Ties go to the first choice,
// as numpy's argmax does. `ece` items feed the calibration metric: the softmax of the choices'
// log-likelihoods is the model's distribution over the answers, its maximum the model's confidence
// (mcCalibrationItems in operators/eval/metrics/calibration.ts).
import { type CalibrationItem, eceAggregate, mcCalibrationItems } from '../metrics/calibration.ts';
import { defineTask, type EvalResult, type MetricItem, type Task } from '../../../src/eval/task.ts';

export interface MultipleChoiceSpec<D> {
  name: string;
  /** what it measures; the builder appends the chance level */
  description: string;
  docs(limit?: number): Promise<readonly D[]> | readonly D[];
  /** the prompt every choice continues */
  context(doc: D): string;
  /** the continuations, each with its leading space (" word"), as lm-eval's target delimiter puts it */
  choices(doc: D): readonly string[];
  /** index of the right choice */
  gold(doc: D): number;
  texts(doc: D): string[];
  config?: Record<string, unknown>;
  /** how many choices every document has (chance = 1/numChoices; requests() checks it), or, for tasks
   * whose documents vary, `chance`: the mean of 1/choices over the documents (chanceLevel) */
  numChoices?: number;
  chance?: number;
}

/** The index of the largest value, the first of equal ones (numpy's argmax); -1 for none. */
export function argmax(xs: readonly number[]): number {
  let best = -1;
  for (let i = 0; i < xs.length; i++) if (best < 0 || xs[i]! > xs[best]!) best = i;
  return best;
}

/** The chance level of documents with these numbers of choices: the mean of 1/k. */
export function chanceLevel(choiceCounts: readonly number[]): number {
  if (choiceCounts.length === 0) return Number.NaN;
  return choiceCounts.reduce((a, k) => a + 1 / k, 0) / choiceCounts.length;
}

/** The items of acc, acc_norm and ece from the choices' log-likelihoods (exported for other scorers). */
export function scoreChoices(
  lls: readonly number[],
  choices: readonly string[],
  gold: number,
): { acc: number; acc_norm: number; ece: CalibrationItem } {
  const pred = argmax(lls);
  const predNorm = argmax(lls.map((ll, i) => ll / choices[i]!.length));
  const { confidence, correct } = mcCalibrationItems(lls, gold);
  return { acc: pred === gold ? 1 : 0, acc_norm: predNorm === gold ? 1 : 0, ece: { confidence, correct } };
}

/** A Task scoring `spec`'s documents as multiple choice (metrics acc, acc_norm, ece). */
export function multipleChoiceTask<D>(spec: MultipleChoiceSpec<D>): Task<D> {
  const chance = spec.chance ?? (spec.numChoices ? 1 / spec.numChoices : undefined);
  if (chance === undefined)
    throw new Error(`multiple-choice task ${spec.name}: give numChoices (or chance, when documents vary)`);
  const checked = (doc: D): readonly string[] => {
    const choices = spec.choices(doc);
    const gold = spec.gold(doc);
    if (spec.numChoices !== undefined && choices.length !== spec.numChoices)
      throw new Error(
        `task ${spec.name}: a document has ${choices.length} choices, the task declares ${spec.numChoices}`,
      );
    if (!Number.isInteger(gold) || gold < 0 || gold >= choices.length)
      throw new Error(`task ${spec.name}: gold index ${gold} is outside the ${choices.length} choices`);
    if (choices.some((c) => c.length === 0))
      throw new Error(`task ${spec.name}: an empty choice (acc_norm divides by its length)`);
    return choices;
  };
  return defineTask<D>({
    name: spec.name,
    description: `${spec.description} Chance: acc = acc_norm = ${+chance.toFixed(4)}.`,
    metrics: {
      acc: { aggregate: 'mean', higherIsBetter: true, chance },
      acc_norm: { aggregate: 'mean', higherIsBetter: true, chance },
      ece: { aggregate: eceAggregate, higherIsBetter: false, stderr: 'bootstrap' },
    },
    docs: (limit) => spec.docs(limit),
    requests: (doc) => {
      const context = spec.context(doc);
      return checked(doc).map((continuation) => ({ kind: 'loglikelihood' as const, context, continuation }));
    },
    process: (doc, results: readonly EvalResult[]): Record<string, MetricItem> => {
      const choices = checked(doc);
      if (results.length !== choices.length)
        throw new Error(
          `task ${spec.name}: ${results.length} results for ${choices.length} choices; the harness must answer ` +
            `every request`,
        );
      const lls = results.map((r, i) => {
        if (r.kind !== 'loglikelihood')
          throw new Error(`task ${spec.name}: result ${i} is ${r.kind}, expected loglikelihood`);
        return r.loglik;
      });
      return scoreChoices(lls, choices, spec.gold(doc));
    },
    texts: (doc) => spec.texts(doc),
    ...(spec.config ? { config: spec.config } : {}),
  });
}
