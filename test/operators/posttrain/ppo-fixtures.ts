// Fixtures of the PPO tests: a tiny random GPT (GPT-2's vocabulary) as the policy, another as the
// reference, a policy that always draws end-of-text, and a tiny GPT + ScalarHead as the reward model,
// all saved as flowlm train saves checkpoints; the PPO graph as a spec; its metrics log read back.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Schema, type RecordBatch } from 'apache-arrow';
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, expect } from 'vitest';
import { z } from 'zod';
import { ppoAdvantagesOp } from '../../../operators/posttrain/ppo-advantages.ts';
import { ppoCheckpoint } from '../../../operators/posttrain/ppo-checkpoint.ts';
import { ppoMetaOf } from '../../../operators/posttrain/ppo-field.ts';
import { ppoMetrics } from '../../../operators/posttrain/ppo-metrics.ts';
import { ppoPrompts } from '../../../operators/posttrain/ppo-prompts.ts';
import { ppoRollout } from '../../../operators/posttrain/ppo-rollout.ts';
import { ppoScore } from '../../../operators/posttrain/ppo-score.ts';
import { ppoUpdateOp } from '../../../operators/posttrain/ppo-update.ts';
import { saveRewardHead } from '../../../operators/posttrain/reward-model-file.ts';
import { mapBatch } from '../../../src/core/map-batch.ts';
import { defineOperator } from '../../../src/core/operator.ts';
import type { PipelineSpecInput } from '../../../src/graph/spec.ts';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { gptConfig } from '../../../src/nn/model/config.ts';
import { Gpt } from '../../../src/nn/model/gpt.ts';
import { ScalarHead } from '../../../src/nn/model/scalar-head.ts';
import type { PpoConfigInput } from '../../../src/nn/ppo/ppo-config.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { metricsSchema } from '../../../src/schema/columns.ts';
import { saveGpt } from '../../fixtures/save-gpt.ts';

export const tmp = mkdtempSync(join(tmpdir(), 'flowlm-ppo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
export const cfg = gptConfig({ vocabSize: 50257, contextLength: 32, nLayer: 1, nHead: 2, dModel: 16 });
export const gpt2 = getEncoding('gpt2');
export const EOT = 50256;
export const P = join(tmp, 'policy');
export const R = join(tmp, 'reward');
export const REF = join(tmp, 'reference');
export const EOS_POLICY = join(tmp, 'eos-policy');
/** A reward model whose score is a function of the last token alone (see beforeAll). */
export const LAST_TOKEN_RM = join(tmp, 'last-token-rm');
export const PROMPTS = ['Subject: meeting moved\n', 'Subject: cheap meds\n', 'Hello', 'Dear friend, I'];

const save = (dir: string, model: Gpt) => saveGpt(dir, model, cfg);

beforeAll(async () => {
  await initBackend({ announce: false });
  const policy = Gpt.create(cfg, { seed: 1 });
  const rm = Gpt.create(cfg, { seed: 3 });
  const ref = Gpt.create(cfg, { seed: 2 });
  // a policy that always draws end-of-text: ln_f gives every position the hidden state u (weight 0,
  // bias u), and end-of-text's (tied) embedding row is 100 u, so its logit 100 |u|^2 dominates
  const eos = Gpt.create(cfg, { seed: 1 });
  const u = Float32Array.from({ length: 16 }, (_, i) => (i % 2 ? 1 : -1));
  const wte = eos.getParams().get('wte.weight')!;
  wte.set(
    u.map((x) => 100 * x),
    EOT * 16,
  );
  eos.setParams({ 'ln_f.weight': new Float32Array(16), 'ln_f.bias': u, 'wte.weight': wte });
  await Promise.all([save(P, policy), save(R, rm), save(REF, ref), save(EOS_POLICY, eos)]);
  ref.dispose();
  eos.dispose();
  // std 1: scores of order 1, so the advantages are not all KL
  await saveRewardHead(R, new ScalarHead(16, { kind: 'reward_head', seed: 4, std: 1 }));
  // blocks that add nothing (output projections 0, biases 0 at init): the last position's hidden state
  // is ln_f(wte[token] + wpe[position]), so the score depends on the scored row's last token alone
  const last = Gpt.create(cfg, { seed: 3 });
  const zero = (n: string) => [n, new Float32Array(last.param(n).size)] as const;
  last.setParams(new Map([zero('h.0.attn.c_proj.weight'), zero('h.0.mlp.c_proj.weight')]));
  await save(LAST_TOKEN_RM, last);
  await saveRewardHead(LAST_TOKEN_RM, new ScalarHead(16, { kind: 'reward_head', seed: 4, std: 1 }));
  last.dispose();
  policy.dispose();
  rm.dispose();
});

export const BASE = {
  policy: P,
  reward: R,
  iterations: 1,
  batchSize: 4,
  miniBatchSize: 2,
  ppoEpochs: 2,
  maxTokens: 5,
  lr: 3e-3,
  seed: 7,
  checkpointEvery: 2,
} satisfies Partial<PpoConfigInput>;

/** Crashes the run when a batch of `iteration` passes (a stand-in for SIGKILL after its update). */
export const crashAt = defineOperator({
  id: 'test/ppo-crash',
  description: 'throws at an iteration',
  config: z.object({ iteration: z.number().int() }),
  input: () => metricsSchema(),
  passthrough: true,
  output: () => metricsSchema(),
  make: (c, ctx) =>
    mapBatch((b: RecordBatch) => {
      if (ppoMetaOf(b, ctx.nodeId).iteration === c.iteration) throw new Error('simulated crash');
      return b;
    }),
});

/** Calls `fn` when a batch of `iteration` passes the rollout (before that iteration's update). */
export const onIteration = (iteration: number, fn: () => void) =>
  defineOperator({
    id: 'test/ppo-probe',
    description: 'calls back at an iteration',
    config: z.object({}),
    input: () => new Schema([]),
    passthrough: true,
    output: () => new Schema([]),
    make: (_c, ctx) =>
      mapBatch((b: RecordBatch) => {
        if (ppoMetaOf(b, ctx.nodeId).iteration === iteration) fn();
        return b;
      }),
  });

export type Step = NonNullable<PipelineSpecInput['steps']>[number];

/** The PPO graph over the base config with `more`; `extra` steps inserted after the named ones; the
 * prompts from `source` (default: the PROMPTS list). */
export function spec(
  runDir: string,
  more: Partial<PpoConfigInput> = {},
  extra: { after: string; step: Step }[] = [],
  source: Record<string, unknown> = { prompts: PROMPTS },
) {
  const steps: Step[] = [
    { id: 'prompts', op: ppoPrompts, config: { ppo: 'ppo', ...source } },
    { id: 'rollout', op: ppoRollout, config: { ppo: 'ppo' } },
    { id: 'score', op: ppoScore, config: { ppo: 'ppo' } },
    { id: 'advantages', op: ppoAdvantagesOp, config: { ppo: 'ppo' } },
    { id: 'update', op: ppoUpdateOp, config: { ppo: 'ppo' } },
    { id: 'checkpoint', op: ppoCheckpoint, config: { ppo: 'ppo' } },
    { id: 'metrics', op: ppoMetrics, config: { ppo: 'ppo' } },
  ];
  for (const e of extra) steps.splice(steps.findIndex((s) => s.id === e.after) + 1, 0, e.step);
  return {
    name: 'ppo-test',
    resources: { ppo: { kind: 'posttrain/ppo', config: { ...BASE, runDir, ...more } } },
    steps,
  } satisfies PipelineSpecInput;
}

export async function run(s: PipelineSpecInput, o: { resume?: boolean; stop?: AbortSignal } = {}) {
  return runPipeline(s, { log: () => undefined, scope: { resume: o.resume ?? false, hooks: { stop: o.stop } } });
}

/** metrics.jsonl as iteration -> name -> value, and the iterations in the order logged. */
export function metricsOf(runDir: string) {
  const by: Record<number, Record<string, number>> = {};
  const order: number[] = [];
  for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { step: number; name: string; value: number };
    if (!by[r.step]) order.push(r.step);
    (by[r.step] ??= {})[r.name] = r.value;
  }
  return { by, order };
}

let counter = 0;
export const dirFor = (name: string) => join(tmp, `${name}-${counter++}`);

export async function metricsFor(more: Partial<PpoConfigInput>) {
  const dir = dirFor('opt');
  const r = await run(spec(dir, more));
  expect(r.ok, r.error?.message).toBe(true);
  return metricsOf(dir).by;
}
