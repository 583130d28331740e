// What an evaluation task is (the conventions of EleutherAI's lm-evaluation-harness): it turns real data
// into documents, each document into requests the model answers (log-likelihood of a continuation,
// rolling log-likelihood of a whole text, greedy generation), and each document's answers into metric
// values; an aggregation turns every document's values of a metric into the task's number.
// Tasks are files: operators/eval/tasks/NAME.ts (default export: a Task) or NAME.json (data, json-task.ts).

/** log P(continuation | context), summed over the continuation's tokens. */
export interface LoglikelihoodRequest {
  kind: 'loglikelihood';
  context: string;
  continuation: string;
}

/** log P(text), the text scored whole in windows of the model's context (for perplexity, bits per byte). */
export interface RollingRequest {
  kind: 'loglikelihood_rolling';
  text: string;
}

/** Greedy continuation of the context, cut at the first of `until` (not included) or after maxTokens. */
export interface GenerateRequest {
  kind: 'generate_until';
  context: string;
  until: readonly string[];
  maxTokens: number;
}

export type EvalRequest = LoglikelihoodRequest | RollingRequest | GenerateRequest;

export interface LoglikelihoodResult {
  kind: 'loglikelihood';
  /** sum of the continuation tokens' log-probabilities, natural log */
  loglik: number;
  /** every continuation token was the model's argmax */
  greedy: boolean;
  /** continuation tokens scored */
  tokens: number;
  /** per continuation token: the probability the model gave the argmax (its confidence) and whether
   * that argmax was the token (for calibration of next-token predictions) */
  confidence?: Float64Array;
  correct?: Uint8Array;
}

export interface RollingResult {
  kind: 'loglikelihood_rolling';
  loglik: number;
  tokens: number;
}

export interface GenerateResult {
  kind: 'generate_until';
  text: string;
}

export type EvalResult = LoglikelihoodResult | RollingResult | GenerateResult;

/** The result type answering a request type. */
export type ResultOf<R extends EvalRequest> = Extract<EvalResult, { kind: R['kind'] }>;

/** One document's value of a metric: a number for mean-aggregated metrics, anything the metric's own
 * aggregation takes (e.g. a [hypothesis, reference] pair for corpus BLEU). */
export type MetricItem = unknown;

/** How a metric's items become the task's value. `mean` items are numbers; `stderr` defaults to the
 * standard error of the mean for `mean`, to a seeded bootstrap for custom aggregations. */
export interface MetricSpec {
  /** 'mean' or a function of every document's items */
  aggregate: 'mean' | ((items: readonly MetricItem[]) => number);
  /** true: larger is better (reported, used by search later) */
  higherIsBetter: boolean;
  /** the standard error: 'mean' (sample sd / sqrt n), 'bootstrap' (resampling the items), or none */
  stderr?: 'mean' | 'bootstrap' | 'none';
}

export interface Task<D = unknown> {
  /** the name `--tasks` takes; unique */
  name: string;
  /** what it measures, in a sentence or two (shown by `flowlm eval --list`) */
  description: string;
  /** the metrics and, for each, the value a model that guesses gets (its chance level), when there is one */
  metrics: Record<string, MetricSpec & { chance?: number }>;
  /** the task's documents, in a fixed order (deterministic: the same every call); `limit`: the first N */
  docs(limit?: number): Promise<readonly D[]> | readonly D[];
  /** the requests one document makes */
  requests(doc: D): EvalRequest[];
  /** the document's item of each metric, from the results of its requests (same order) */
  process(doc: D, results: readonly EvalResult[]): Record<string, MetricItem>;
  /** the texts of a document that must not be in training data (decontamination) */
  texts(doc: D): string[];
  /** the task's settings that change its numbers (hashed into the results' config hash) */
  config?: Record<string, unknown>;
}

/** A task, checked and typed (the identity at run time). */
export function defineTask<D>(task: Task<D>): Task<D> {
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(task.name))
    throw new Error(`task name "${task.name}": use lower-case letters, digits, '_', '-' and '.'`);
  if (Object.keys(task.metrics).length === 0) throw new Error(`task ${task.name}: declares no metrics`);
  return task;
}

/** One row of results: DESIGN.md §10's (task, metric, value, stderr, n) plus the config hash. */
export interface EvalResultRow {
  task: string;
  metric: string;
  value: number;
  /** NaN when not computed */
  stderr: number;
  n: number;
  config_hash: string;
}
