// heldout-continuation and next-token-calibration: documents deterministic and taken verbatim from the
// held-out split, requests of the declared shape and size, process() on hand-made results against
// values computed by hand (ROUGE-N/L as rouge-score defines them; 15-bin ECE/MCE/top-label Brier as Guo
// et al. 2017), and one small run of each (and of the shipped JSON task) through runTask with a tiny
// random GPT: rows for every declared metric, finite, n = 3.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import { loadTasks } from '../../src/eval/registry.ts';
import { runTask } from '../../src/eval/run-tasks.ts';
import type { EvalResult, LoglikelihoodResult, MetricSpec, Task } from '../../src/eval/task.ts';
import { tokenizerFor } from '../../src/eval/tokenizer.ts';
import { heldoutDocs } from '../../operators/eval/tasks/heldout.ts';
import { reliabilityPlots } from '../../operators/eval/reliability-plots.ts';
import continuation, { continuationDocs } from '../../operators/eval/tasks/heldout-continuation.ts';
import calibrationTask, { calibrationDocs } from '../../operators/eval/tasks/next-token-calibration.ts';

const TASKS = '../../operators/eval/tasks/';
const tok = tokenizerFor('gpt2');
const agg = (spec: MetricSpec | undefined, items: unknown[]) => {
  if (!spec || typeof spec.aggregate !== 'function') throw new Error('expected a function aggregate');
  return spec.aggregate(items);
};
const words = (s: string) => s.split(' ').length;
// the held-out texts as the tasks read them: whitespace runs as one space
const heldText = new Map(heldoutDocs().map((d) => [d.id, d.text.replace(/\s+/g, ' ')]));

/** docs() is the same on every call and after a fresh load of the module; a limit gives a prefix. */
async function deterministic<D>(task: Task<D>, file: string) {
  const a = await task.docs();
  vi.resetModules();
  const fresh = ((await import(`${TASKS}${file}`)) as { default: Task<D> }).default;
  expect(fresh).not.toBe(task);
  expect(await fresh.docs()).toEqual(a);
  expect(await task.docs(5)).toEqual(a.slice(0, 5));
  return a;
}

describe('heldout-continuation', () => {
  it('100 deterministic passages of both sources: 40-60 words of context, the true next 20-30 words', async () => {
    const docs = await deterministic(continuation, 'heldout-continuation.ts');
    expect(docs).toBe(continuationDocs());
    expect(docs.length).toBe(100);
    expect(new Set(docs.map((d) => d.id)).size).toBe(100);
    expect(docs.some((d) => d.source.startsWith('moby-dick/'))).toBe(true);
    expect(docs.some((d) => d.source.startsWith('sotu/'))).toBe(true);
    for (const d of docs) {
      expect(words(d.context)).toBeGreaterThanOrEqual(40);
      expect(words(d.context)).toBeLessThanOrEqual(60);
      expect(words(d.reference)).toBeGreaterThanOrEqual(20);
      expect(words(d.reference)).toBeLessThanOrEqual(30);
      // whole sentences of context; the reference follows it in the text
      expect(d.context).toMatch(/[.!?]['"’”)]*$/);
      expect(heldText.get(d.source)).toContain(`${d.context} ${d.reference}`);
      expect(continuation.requests(d)).toEqual([
        { kind: 'generate_until', context: d.context, until: ['\n\n'], maxTokens: 32 },
      ]);
      expect(continuation.texts(d)).toEqual([`${d.context} ${d.reference}`]);
    }
  });

  it('scores the continuation as generated: ROUGE by hand, BLEU/chrF as corpus pairs', () => {
    const d = { ...continuationDocs()[0]!, reference: 'the cat ran home' };
    const out = continuation.process(d, [{ kind: 'generate_until', text: ' the cat sat' }]);
    // unigrams: 2 shared, P 2/3, R 2/4, F 4/7; bigrams "the cat": P 1/2, R 1/3, F 2/5; LCS 2 as unigrams
    expect(out.rouge1).toBeCloseTo(4 / 7, 12);
    expect(out.rouge2).toBeCloseTo(2 / 5, 12);
    expect(out.rougeL).toBeCloseTo(4 / 7, 12);
    expect(out.rougeLsum).toBeCloseTo(4 / 7, 12);
    expect(out.bleu).toEqual([' the cat sat', 'the cat ran home']);
    expect(out.chrf).toEqual([' the cat sat', 'the cat ran home']);
    // a continuation equal to the reference: BLEU 100 (sacrebleu), ROUGE 1
    const same = continuation.process(d, [{ kind: 'generate_until', text: d.reference }]);
    expect(agg(continuation.metrics.bleu, [same.bleu])).toBeCloseTo(100, 10);
    expect(agg(continuation.metrics.chrf, [same.chrf])).toBeCloseTo(100, 10);
    expect(same.rougeL).toBe(1);
    // nothing shared: BLEU 0
    expect(agg(continuation.metrics.bleu, [['whale ship sea', 'the cat ran home']])).toBe(0);
    expect(() => continuation.process(d, [])).toThrow(/expected one generate_until result/);
    expect(Object.values(continuation.metrics).every((m) => m.chance === undefined)).toBe(true);
  });
});

describe('next-token-calibration', () => {
  it('200 deterministic passages that fit a 128-token context, first sentence as context', async () => {
    const docs = await deterministic(calibrationTask, 'next-token-calibration.ts');
    expect(docs.length).toBe(200);
    expect(docs.some((d) => d.source.startsWith('moby-dick/'))).toBe(true);
    expect(docs.some((d) => d.source.startsWith('sotu/'))).toBe(true);
    for (const d of docs) {
      expect(heldText.get(d.source)).toContain(`${d.context} ${d.rest}`);
      expect(words(d.context)).toBeGreaterThanOrEqual(5);
      expect(words(d.rest)).toBeGreaterThanOrEqual(20);
      expect(words(d.context) + words(d.rest)).toBeLessThanOrEqual(70);
      // GPT-2 tokens of the whole passage: it fits a 128-token context
      expect(tok.encode(`${d.context} ${d.rest}`).length).toBeLessThanOrEqual(128);
      expect(calibrationTask.requests(d)).toEqual([
        { kind: 'loglikelihood', context: d.context, continuation: ` ${d.rest}` },
      ]);
    }
  });

  it('ece, mce, brier over every token in 15 bins; token_accuracy over tokens, not documents', () => {
    const [d0, d1] = calibrationDocs();
    const res = (confidence: number[], correct: number[]): LoglikelihoodResult => ({
      kind: 'loglikelihood',
      loglik: -1,
      greedy: false,
      tokens: confidence.length,
      confidence: Float64Array.from(confidence),
      correct: Uint8Array.from(correct),
    });
    const a = calibrationTask.process(d0!, [res([0.9, 0.9, 0.2], [1, 0, 0])]);
    const b = calibrationTask.process(d1!, [res([0.95], [1])]);
    expect(Array.from((a.ece as { confidence: Float64Array }).confidence)).toEqual([0.9, 0.9, 0.2]);
    // bins of width 1/15: 0.9 -> [13/15, 14/15): conf 0.9, acc 1/2, 2 tokens; 0.95 -> last bin: conf 0.95,
    // acc 1; 0.2 -> [3/15, 4/15): conf 0.2, acc 0. ECE = (2*0.4 + 0.05 + 0.2) / 4, MCE = 0.4,
    // Brier = (0.01 + 0.81 + 0.04 + 0.0025) / 4; token accuracy 2/4 (the mean of documents would be 2/3)
    const m = calibrationTask.metrics;
    expect(agg(m.ece, [a.ece, b.ece])).toBeCloseTo(1.05 / 4, 12);
    expect(agg(m.mce, [a.mce, b.mce])).toBeCloseTo(0.4, 12);
    expect(agg(m.brier, [a.brier, b.brier])).toBeCloseTo(0.8625 / 4, 12);
    expect(agg(m.token_accuracy, [a.token_accuracy, b.token_accuracy])).toBe(0.5);
    const noArrays: EvalResult = { kind: 'loglikelihood', loglik: -1, greedy: false, tokens: 1 };
    expect(() => calibrationTask.process(d0!, [noArrays])).toThrow(/lacks per-token confidence/);
    expect(() => calibrationTask.process(d0!, [])).toThrow(/expected one loglikelihood result/);
  });
});

describe('a run through runTask with a tiny random GPT (--limit 3)', () => {
  let model: Gpt;
  beforeAll(async () => {
    await initBackend({ announce: false });
    model = Gpt.create(
      { vocabSize: 50257, contextLength: 128, nLayer: 1, nHead: 2, dModel: 16, mlpRatio: 2, dropout: 0 },
      { seed: 3 },
    );
  });

  const names = ['heldout-continuation', 'next-token-calibration', 'example-definitions'];
  for (const name of names) {
    it(`${name}: a finite row for every declared metric, n = 3`, async () => {
      const [task] = (await loadTasks([name])) as [Task];
      const run = await runTask(model, tok, task, { limit: 3, batchSize: 4, encoding: 'gpt2' });
      expect(run.docs).toBe(3);
      expect(run.rows.map((r) => r.metric)).toEqual(Object.keys(task.metrics));
      for (const r of run.rows) {
        expect(r.task).toBe(name);
        expect(r.n).toBe(3);
        expect(Number.isFinite(r.value)).toBe(true);
      }
      if (name === 'next-token-calibration') {
        // per-token items: the ECE counts tokens, and flowlm eval draws its reliability diagram
        const tokens = (run.items.get('ece') as { correct: Uint8Array }[]).reduce((s, it) => s + it.correct.length, 0);
        expect(tokens).toBe(run.tokens);
        const plots = reliabilityPlots(name, run.items);
        expect(plots.map(([m]) => m)).toEqual(['ece']);
        expect(plots[0]![1]).toMatch(/^<svg/);
      }
    }, 120_000);
  }
});
