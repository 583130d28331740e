// posttrain/best-of-n with a tiny random GPT (GPT-2's vocabulary) as the policy and another tiny GPT +
// ScalarHead as the reward model, both saved as flowlm train saves checkpoints: the n samples are
// regenerated here with generateTokens from the prompt's seed and scored one row at a time with
// rewardScores, and the kept response is the one of the largest reward; n=1 is a plain seeded sample;
// minReward drops prompts; the same seed gives the same output; every config field changes the output.
// reward-model-file: the head round-trips bit for bit and a head of another width is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Schema, Utf8, type RecordBatch } from 'apache-arrow';
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bestOfN, promptSeed } from '../../../operators/posttrain/rejection-sample.ts';
import { loadRewardModel, saveRewardHead } from '../../../operators/posttrain/reward-model-file.ts';
import { OperatorStats } from '../../../src/core/stats.ts';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { gptConfig } from '../../../src/nn/model/config.ts';
import { Gpt } from '../../../src/nn/model/gpt.ts';
import { generateTokens } from '../../../src/nn/model/sample.ts';
import { ScalarHead } from '../../../src/nn/model/scalar-head.ts';
import { rewardScores } from '../../../src/nn/objective/reward.ts';
import { Rng } from '../../../src/runtime/rng.ts';
import { batchFromColumns } from '../../../src/schema/index.ts';
import { runOp } from '../pack/fixtures.ts';
import { saveGpt } from '../../fixtures/save-gpt.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-best-of-n-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cfg = gptConfig({ vocabSize: 50257, contextLength: 32, nLayer: 1, nHead: 2, dModel: 16 });
const gpt2 = getEncoding('gpt2');
const EOT = 50256;

const save = (dir: string, model: Gpt, modelConfig = cfg) => saveGpt(dir, model, modelConfig);

let policy: Gpt, policy2: Gpt, rm: Gpt, head: ScalarHead, head2: ScalarHead;
const [P, P2, R, R2] = ['policy', 'policy2', 'reward', 'reward2'].map((d) => join(tmp, d)) as [
  string,
  string,
  string,
  string,
];
beforeAll(async () => {
  await initBackend({ announce: false });
  policy = Gpt.create(cfg, { seed: 1 });
  policy2 = Gpt.create(cfg, { seed: 2 });
  rm = Gpt.create(cfg, { seed: 3 });
  // std 1: rewards far apart, so the best of n is clear
  head = new ScalarHead(16, { kind: 'reward_head', seed: 4, std: 1 });
  head2 = new ScalarHead(16, { kind: 'reward_head', seed: 5, std: 1 });
  await Promise.all([save(P, policy), save(P2, policy2), save(R, rm), save(R2, rm)]);
  await saveRewardHead(R, head);
  await saveRewardHead(R2, head2);
});

const PROMPTS = ['Subject: meeting moved\n', 'Subject: cheap meds\n', ''];
const promptBatch = (p: readonly (string | null)[]) =>
  batchFromColumns(new Schema([new Field('prompt', new Utf8(), true)]) as never, { prompt: p } as never) as RecordBatch;

type Out = { prompt: string; response: string; reward: number; rewards: number[] };
async function run(config: Parameters<typeof bestOfN>[0], prompts: readonly (string | null)[] = PROMPTS) {
  const stats = new OperatorStats('b');
  const out = await runOp(
    [promptBatch(prompts.slice(0, 2)), promptBatch(prompts.slice(2))],
    bestOfN(config, { stats }),
  );
  const rows = out.flatMap((b) =>
    b.toArray().map((r) => {
      const j = r.toJSON() as {
        prompt: string;
        response: string;
        reward: number;
        rewards: { toArray(): Float32Array };
      };
      return { ...j, rewards: Array.from(j.rewards.toArray()) };
    }),
  ) as Out[];
  return { rows, stats };
}

/** The n samples of a prompt as the operator must draw them, each scored alone. */
function reference(
  prompt: string,
  o: {
    n: number;
    maxTokens: number;
    temperature?: number;
    topK?: number;
    topP?: number;
    seed: number;
    eos?: boolean;
    scorer?: ScalarHead;
  },
) {
  const ids = prompt === '' ? [EOT] : gpt2.encode(prompt, [], []);
  const rng = new Rng(promptSeed(o.seed, prompt));
  const samples = Array.from({ length: o.n }, () => generateTokens(policy, ids, { ...o, stopToken: EOT }, rng));
  const rewards = samples.map((s) => {
    const row = [...ids, ...s, ...(o.eos === false ? [] : [EOT])];
    const t = rewardScores(
      rm,
      o.scorer ?? head,
      { ids: Int32Array.from(row), batch: 1, seqLen: row.length },
      Int32Array.of(row.length - 1),
    );
    const v = t.dataSync()[0]!;
    t.dispose();
    return v;
  });
  return { samples: samples.map((s) => gpt2.decode(s)), rewards };
}

const base = { policy: P, reward: R, n: 4, maxTokens: 6, seed: 7 };
// run(base) once for the tests that compare against it (the first test runs it twice: the same output)
let baseRun: ReturnType<typeof run> | undefined;
const runBase = () => {
  baseRun ??= run(base);
  return baseRun;
};

describe('posttrain/best-of-n', () => {
  it('keeps the sample of the largest reward among the n, recomputed one row at a time', async () => {
    const { rows, stats } = await runBase();
    expect(rows.map((r) => r.prompt)).toEqual(PROMPTS);
    for (const r of rows) {
      const ref = reference(r.prompt, base);
      expect(r.rewards.length).toBe(4);
      r.rewards.forEach((x, k) => expect(x).toBeCloseTo(ref.rewards[k]!, 4));
      const best = ref.rewards.indexOf(Math.max(...ref.rewards));
      expect(r.response).toBe(ref.samples[best]);
      expect(r.reward).toBeCloseTo(Math.max(...ref.rewards), 4);
      // the samples differ, so the choice matters
      expect(new Set(ref.samples).size).toBeGreaterThan(1);
    }
    expect(stats.counters.get('samples')).toBe(12);
    const again = await run(base);
    expect(again.rows).toEqual(rows);
  }, 60_000);

  it('n=1 is a plain seeded sample (with temperature, topK, topP passed on); temperature 0 is greedy', async () => {
    const o = { ...base, n: 1, maxTokens: 5, temperature: 0.7, topK: 40, topP: 0.9 };
    const { rows } = await run(o);
    for (const r of rows) {
      const ids = r.prompt === '' ? [EOT] : gpt2.encode(r.prompt, [], []);
      const plain = generateTokens(policy, ids, { ...o, stopToken: EOT }, new Rng(promptSeed(7, r.prompt)));
      expect(r.response).toBe(gpt2.decode(plain));
      expect(r.rewards).toEqual([r.reward]);
    }
    // different from what the defaults (temperature 1, all tokens) draw
    const loose = await run({ ...base, n: 1, maxTokens: 5 });
    expect(loose.rows.map((r) => r.response)).not.toEqual(rows.map((r) => r.response));
    for (const extra of [{ temperature: 0 }, { topK: 1 }, { topP: 1e-6 }]) {
      const g = await run({ ...base, ...extra }, PROMPTS.slice(0, 1));
      const greedy = generateTokens(
        policy,
        gpt2.encode(PROMPTS[0]!, [], []),
        { maxTokens: 6, temperature: 0, stopToken: EOT },
        new Rng(0),
      );
      expect(g.rows[0]!.response).toBe(gpt2.decode(greedy));
      expect(new Set(g.rows[0]!.rewards).size).toBe(1);
    }
  }, 60_000);

  it('minReward drops the prompts whose best reward is below it; nulls dropped', async () => {
    const all = await runBase();
    const bests = all.rows.map((r) => r.reward).sort((a, b) => a - b);
    const cut = (bests[0]! + bests[1]!) / 2;
    const kept = await run({ ...base, minReward: cut }, [...PROMPTS, null]);
    expect(kept.rows).toEqual(all.rows.filter((r) => r.reward >= cut));
    expect(kept.rows.length).toBe(2);
    expect(kept.stats.dropReasons.get('best reward below minReward')).toBe(1);
    expect(kept.stats.dropReasons.get('null prompt')).toBe(1);
  }, 60_000);

  it('seed, maxTokens, policy, reward and scoreEos change the output as they should', async () => {
    const a = await runBase();
    const seed = await run({ ...base, seed: 8 });
    expect(seed.rows.map((r) => r.rewards)).not.toEqual(a.rows.map((r) => r.rewards));
    seed.rows.forEach((r) =>
      expect(r.rewards[0]).toBeCloseTo(reference(r.prompt, { ...base, seed: 8 }).rewards[0]!, 4),
    );
    const long = await run({ ...base, n: 1, maxTokens: 9 });
    long.rows.forEach((r) => expect(r.response).toBe(reference(r.prompt, { ...base, n: 1, maxTokens: 9 }).samples[0]));
    expect(long.rows.some((r) => gpt2.encode(r.response, [], []).length > 6)).toBe(true);
    const other = await run({ ...base, policy: P2 });
    expect(other.rows.map((r) => r.response)).not.toEqual(a.rows.map((r) => r.response));
    const r2 = await run({ ...base, reward: R2 });
    r2.rows.forEach((r) =>
      r.rewards.forEach((x, k) =>
        expect(x).toBeCloseTo(reference(r.prompt, { ...base, scorer: head2 }).rewards[k]!, 4),
      ),
    );
    const noEos = await run({ ...base, scoreEos: false });
    noEos.rows.forEach((r) =>
      r.rewards.forEach((x, k) => expect(x).toBeCloseTo(reference(r.prompt, { ...base, eos: false }).rewards[k]!, 4)),
    );
    expect(noEos.rows.map((r) => r.rewards)).not.toEqual(a.rows.map((r) => r.rewards));
  }, 120_000);
});

describe('reward-model-file', () => {
  it('the head round-trips bit for bit with its Gpt; a head of another width or a missing head is refused', async () => {
    const loaded = await loadRewardModel(R);
    const want = head.getParams();
    for (const [name, v] of loaded.head.getParams())
      expect(Buffer.from(v.buffer)).toEqual(Buffer.from(want.get(name)!.buffer));
    expect(loaded.model.getParams().get('wte.weight')).toEqual(rm.getParams().get('wte.weight'));
    loaded.model.dispose();
    loaded.head.dispose();
    await expect(loadRewardModel(P)).rejects.toThrow(/no score\.arrow/);
    const wide = join(tmp, 'wide');
    await save(wide, rm);
    await saveRewardHead(wide, new ScalarHead(8, { kind: 'reward_head' }));
    await expect(loadRewardModel(wide)).rejects.toThrow(
      /score\.weight has shape \[8, 1\], the model \(dModel 16\) needs \[16, 1\]/,
    );
    await expect(saveRewardHead(wide, new ScalarHead(16, { kind: 'value_head' }))).rejects.toThrow(/reward_head/);
  });

  it('a model trained with a reward head (model.rewardHead) gives its own score.* as the head', async () => {
    const withHead = gptConfig({ ...cfg, rewardHead: true });
    const trained = Gpt.create(withHead, { seed: 6 });
    const dir = join(tmp, 'trained-rm');
    await save(dir, trained, withHead);
    const loaded = await loadRewardModel(dir);
    const own = trained.getParams();
    const got = loaded.head.getParams();
    expect([...got.keys()].sort()).toEqual(['score.bias', 'score.weight']);
    for (const [name, v] of got) expect(Buffer.from(v.buffer)).toEqual(Buffer.from(own.get(name)!.buffer));
    loaded.model.dispose();
    loaded.head.dispose();
    trained.dispose();
  });
});
