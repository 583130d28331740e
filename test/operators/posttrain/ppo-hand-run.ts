// Iteration 1 of the base PPO config by hand, from the library functions alone (generateTokens,
// log-probs from hidden states, the value head, rewardScores, ppoRewards, gae, ppoLoss, ppoStats,
// AdamW): every rollout row run alone (no padding), minibatches packed here, the policy and the value
// head stepped by two AdamWs (per parameter the same as one over both).
import * as tf from '@tensorflow/tfjs';
import { loadRewardModel } from '../../../operators/posttrain/reward-model-file.ts';
import { loadModel } from '../../../src/nn/checkpoint/load-model.ts';
import type { Gpt } from '../../../src/nn/model/gpt.ts';
import { generateTokens } from '../../../src/nn/model/sample.ts';
import { ScalarHead } from '../../../src/nn/model/scalar-head.ts';
import { inputsOf } from '../../../src/nn/objective/loss.ts';
import { gae, ppoLoss, ppoRewards, ppoStats, sequenceKl } from '../../../src/nn/objective/ppo.ts';
import { rewardScores } from '../../../src/nn/objective/reward.ts';
import { logprobsFromHidden } from '../../../src/nn/objective/sequence-logprobs.ts';
import { AdamW } from '../../../src/nn/optim/adamw.ts';
import { rolloutSeed } from '../../../src/nn/ppo/ppo-dist.ts';
import { Rng } from '../../../src/runtime/rng.ts';
import { BASE, EOT, gpt2, P, PROMPTS, R } from './ppo-fixtures.ts';

/** Iteration 1 of BASE by hand: each row alone for the rollout quantities and scores. */
export async function handRun() {
  const policy = (await loadModel(P)).model;
  const reference = (await loadModel(P)).model;
  const rm = await loadRewardModel(R);
  const head = new ScalarHead(16, { kind: 'value_head', seed: BASE.seed });
  // the run's Rng orders the minibatches; each rollout samples from its own, seeded by (seed, iteration 1, index)
  const rng = new Rng(BASE.seed);
  const prompts = PROMPTS.map((p) => gpt2.encode(p, [], []));
  const responses = prompts.map((p, i) => {
    const own = new Rng(rolloutSeed(BASE.seed, 1, i));
    const r = generateTokens(policy, p, { maxTokens: BASE.maxTokens, temperature: 1, stopToken: EOT }, own);
    return r.length < BASE.maxTokens ? [...r, EOT] : r;
  });
  const B = prompts.length;
  const T = Math.max(...responses.map((r) => r.length));
  // one row, no padding: log p of each response token and the value before it
  const rowOf = (m: Gpt, b: number, withHead: boolean) =>
    tf.tidy(() => {
      const p = prompts[b]!;
      const ids = Int32Array.from([...p, ...responses[b]!]);
      const rows = { inputIds: ids, batch: 1, seqLen: ids.length - 1 };
      const mask = new Float32Array(ids.length).fill(1, p.length);
      const h = m.hidden(inputsOf(rows));
      const lp = logprobsFromHidden(h, m.headMatrix(), rows, mask)
        .tokens.dataSync()
        .slice(p.length - 1);
      const v = withHead
        ? head
            .values(h)
            .dataSync()
            .slice(p.length - 1)
        : new Float32Array(0);
      return { lp: Float32Array.from(lp), v: Float32Array.from(v) };
    });
  const lay = (rowsOf: (b: number) => ArrayLike<number>) => {
    const out = new Float64Array(B * T);
    for (let b = 0; b < B; b++) out.set(rowsOf(b), b * T);
    return out;
  };
  const pol = prompts.map((_, b) => rowOf(policy, b, true));
  const ref = prompts.map((_, b) => rowOf(reference, b, false));
  const mask = lay((b) => new Float64Array(responses[b]!.length).fill(1));
  const oldLp = lay((b) => pol[b]!.lp);
  const oldV = lay((b) => pol[b]!.v);
  const refLp = lay((b) => ref[b]!.lp);
  const scores = prompts.map((p, b) => {
    const row = [...p, ...responses[b]!];
    if (row.at(-1) !== EOT) row.push(EOT);
    const t = rewardScores(
      rm.model,
      rm.head,
      { ids: Int32Array.from(row), batch: 1, seqLen: row.length },
      Int32Array.of(row.length - 1),
    );
    const s = t.dataSync()[0]!;
    t.dispose();
    return s;
  });
  const shaped = ppoRewards(scores, oldLp, refLp, mask, B, T, 0.2);
  const g = gae(shaped.rewards, oldV, mask, B, T, { gamma: 1, lambda: 0.95 });
  // the update: two AdamWs (policy, head) are one AdamW over both, parameter by parameter
  const optP = new AdamW(policy.specs, { beta1: 0.9, beta2: 0.95, weightDecay: 0 });
  const optH = new AdamW(head.specs, { beta1: 0.9, beta2: 0.95, weightDecay: 0 });
  const headHost = { param: (n: string) => head.params.get(n)! } as unknown as Gpt;
  const o = { cliprange: 0.2, cliprangeValue: 0.2, vfCoef: 0.1 };
  const sums: Record<string, number> = {};
  let n = 0;
  for (let e = 0; e < BASE.ppoEpochs; e++) {
    const order = rng.shuffle([0, 1, 2, 3]);
    for (let s = 0; s < B; s += BASE.miniBatchSize) {
      const pick = order.slice(s, s + BASE.miniBatchSize);
      const t = Math.max(...pick.map((b) => responses[b]!.length));
      const width = Math.max(...pick.map((b) => prompts[b]!.length + responses[b]!.length));
      const ids = new Int32Array(pick.length * width);
      const rmask = new Float32Array(pick.length * width);
      const idx = new Int32Array(pick.length * t);
      const sub = (a: Float64Array) =>
        Float64Array.from({ length: pick.length * t }, (_, i) => a[pick[Math.floor(i / t)]! * T + (i % t)]!);
      const m = Float64Array.from({ length: pick.length * t }, (_, i) =>
        i % t < responses[pick[Math.floor(i / t)]!]!.length ? 1 : 0,
      );
      pick.forEach((b, k) => {
        const row = [...prompts[b]!, ...responses[b]!];
        ids.set(row, k * width);
        rmask.fill(1, k * width + prompts[b]!.length, k * width + row.length);
        for (let j = 0; j < responses[b]!.length; j++) idx[k * t + j] = k * (width - 1) + prompts[b]!.length + j - 1;
      });
      const rows = { inputIds: ids, batch: pick.length, seqLen: width - 1 };
      const targets = {
        oldLogprobs: sub(oldLp),
        oldValues: sub(oldV),
        advantages: sub(g.advantages),
        returns: sub(g.returns),
        mask: m,
      };
      const vars = [
        ...policy.specs.map((sp) => policy.param(sp.name)),
        ...head.specs.map((sp) => head.params.get(sp.name)!),
      ];
      let kept: tf.Tensor[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const h = policy.hidden(inputsOf(rows));
        const lp = logprobsFromHidden(h, policy.headMatrix(), rows, rmask, { entropy: true });
        const at = (x: tf.Tensor) =>
          tf.mul(tf.gather(x.reshape([-1]), tf.tensor1d(idx, 'int32')), tf.tensor1d(Float32Array.from(m)));
        const [l, v, en] = [at(lp.tokens), at(head.values(h)), at(lp.entropy!)];
        kept = [tf.keep(l), tf.keep(v), tf.keep(en)];
        return ppoLoss(l, v, targets, o).loss;
      }, vars);
      const [l, v, en] = kept.map((x) => Float32Array.from(x.dataSync()));
      const st = ppoStats(l!, v!, targets, o, en);
      for (const [k, x] of Object.entries(st)) sums[k] = (sums[k] ?? 0) + x!;
      n++;
      const flat = new Map(
        vars.map((x, i) => [
          i < policy.specs.length ? policy.specs[i]!.name : head.specs[i - policy.specs.length]!.name,
          Float32Array.from(grads[x.name]!.dataSync()),
        ]),
      );
      tf.dispose([value, ...Object.values(grads), ...kept]);
      let sq = 0;
      for (const a of flat.values()) for (const x of a) sq += x * x;
      const f = 1 / (Math.sqrt(sq) + 1e-6);
      if (f < 1) for (const a of flat.values()) for (let i = 0; i < a.length; i++) a[i]! *= f;
      const part = (specs: { name: string }[]) => new Map(specs.map((sp) => [sp.name, flat.get(sp.name)!]));
      optP.apply(policy, part(policy.specs), BASE.lr);
      optH.apply(headHost, part(head.specs), BASE.lr);
    }
  }
  const mean = (k: string) => sums[k]! / n;
  const metrics: Record<string, number> = {
    score: scores.reduce((a, b) => a + b, 0) / B,
    kl: sequenceKl(shaped.kl, B, T),
    kl_coef: 0.2,
    entropy: mean('entropy'),
    clipfrac: mean('pgClipfrac'),
    vf_clipfrac: mean('vfClipfrac'),
    value_loss: mean('vfLoss'),
    policy_loss: mean('pgLoss'),
    approx_kl: mean('approxKl'),
    response_length: responses.reduce((a, r) => a + r.length, 0) / B,
  };
  const params = policy.getParams();
  for (const x of [policy, reference, rm.model, rm.head, head]) x.dispose();
  return { metrics, params };
}
