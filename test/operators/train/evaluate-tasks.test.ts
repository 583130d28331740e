// Evaluation tasks inside training: train/evaluate with `tasks` runs them on the replica's model every
// `tasksEvery` steps and at the last, on the first `tasksLimit` documents, and their numbers land in the
// run's metrics as split 'eval', TASK/METRIC; each equals what `flowlm eval` computes from the
// checkpoint written at that step (same model, same documents).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTasks } from '../../../src/eval/registry.ts';
import { runTask } from '../../../src/eval/run-tasks.ts';
import { tokenizerFor } from '../../../src/eval/tokenizer.ts';
import { validatePipeline } from '../../../src/graph/validate.ts';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { loadModel } from '../../../src/nn/checkpoint/load-model.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { writeTrainShards } from '../../fixtures/train-shards.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-eval-in-train-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const shards = join(tmp, 'shards');
const runDir = join(tmp, 'run');
const TASKS = ['lambada-moby-sotu', 'spam-zero-shot'];

beforeAll(async () => {
  await initBackend({ announce: false });
  await writeTrainShards(shards, 4, 32);
}, 120_000);

interface Row {
  step: number;
  split: string;
  name: string;
  value: number;
}

describe('train/evaluate with tasks', () => {
  it('runs the tasks every tasksEvery steps on tasksLimit documents; the values are those of the checkpoint', async () => {
    const t = { trainer: 'trainer' };
    const spec = {
      name: 'train-eval-tasks',
      resources: {
        model: {
          kind: 'nn/gpt',
          config: { vocabSize: 50257, contextLength: 32, nLayer: 1, nHead: 2, dModel: 16 },
        },
        optimizer: { kind: 'nn/adamw', config: { lr: { max: 1e-2, min: 1e-3, warmupSteps: 1 } } },
        trainer: {
          kind: 'nn/trainer',
          config: {
            model: 'model',
            optimizer: 'optimizer',
            runDir,
            batchSize: 4,
            steps: 4,
            evalEvery: 1,
            evalBatches: 1,
            checkpointEvery: 2,
            keepLast: 5,
            seed: 1,
          },
        },
      },
      steps: [
        { id: 'data', op: 'train/shard-batches', config: { ...t, dir: shards, holdoutRows: 8 } },
        { id: 'forward-backward', op: 'train/forward-backward', config: t },
        { id: 'all-reduce', op: 'train/all-reduce', config: t },
        { id: 'optimizer-step', op: 'train/optimizer-step', config: t },
        { id: 'evaluate', op: 'train/evaluate', config: { ...t, tasks: TASKS, tasksEvery: 2, tasksLimit: 3 } },
        { id: 'checkpoint', op: 'train/checkpoint', config: t },
        { id: 'metrics', op: 'train/metrics-sink', config: t },
      ],
    };
    const run = await runPipeline(await validatePipeline(spec), { log: () => undefined });
    expect(run.ok, run.error?.message).toBe(true);
    const rows = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Row);
    const evalRows = rows.filter((r) => r.split === 'eval');
    // every 2 steps: 2 and 4, not 1 and 3; validation (evalEvery 1) ran at every step
    expect([...new Set(evalRows.map((r) => r.step))]).toEqual([2, 4]);
    expect(rows.filter((r) => r.split === 'val' && r.name === 'loss').map((r) => r.step)).toEqual([1, 2, 3, 4]);
    const names = [...new Set(evalRows.map((r) => r.name))].sort();
    expect(names).toEqual(
      [
        'lambada-moby-sotu/acc',
        'lambada-moby-sotu/perplexity',
        'spam-zero-shot/acc',
        'spam-zero-shot/acc_norm',
        'spam-zero-shot/ece',
      ].sort(),
    );
    // the numbers of step 2 and step 4 are those of their checkpoints, on the first 3 documents
    const tasks = await loadTasks(TASKS);
    for (const step of [2, 4]) {
      const { model, encoding } = await loadModel(join(runDir, `step-${String(step).padStart(6, '0')}`));
      try {
        for (const task of tasks) {
          const r = await runTask(model, tokenizerFor(encoding), task, { limit: 3, encoding });
          for (const row of r.rows) {
            const got = evalRows.find((x) => x.step === step && x.name === `${task.name}/${row.metric}`);
            expect(got?.value, `${task.name}/${row.metric} at step ${step}`).toBeCloseTo(row.value, 10);
            expect(row.n).toBe(3);
          }
        }
      } finally {
        model.dispose();
      }
    }
    const pp = evalRows.filter((r) => r.name === 'lambada-moby-sotu/perplexity').map((r) => r.value);
    expect(pp[1]).not.toBe(pp[0]); // the model changed between the evaluations
  }, 300_000);
});
