// ZeRO-1 sharded AdamW against plain AdamW: with the same (already averaged) gradients every rank of
// a group must end each step with AdamW's parameters bit for bit, the gathered state must be AdamW's
// state, and a state saved at one world size must continue identically at another.
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, type AdamWOptions, type AdamWState } from '../../src/nn/optim/adamw.ts';
import { AdamWOptimizer } from '../../src/nn/optim/adamw-optimizer.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import type { Optimizer } from '../../src/nn/optim/optimizer.ts';
import { computeGrads } from '../../src/nn/train/train-step.ts';
import { ZeroAdamW } from '../../src/nn/optim/zero-adamw.ts';
import { localCollective, type Collective } from '../../src/runtime/collectives/collective.ts';
import { memoryGroup } from '../../src/runtime/collectives/memory-transport.ts';
import { mobyParagraphs } from '../fixtures/moby.ts';

beforeAll(async () => {
  await initBackend({ announce: false });
});

const cfg = { vocabSize: 28, contextLength: 12, nLayer: 2, nHead: 2, dModel: 16 };
const STEPS = 5;
const opts: AdamWOptions = { weightDecay: 0.1 };
const lrAt = (s: number) => 2e-2 * (1 - s / (2 * STEPS));

// Moby-Dick as characters: a-z are 0..25, space 26, anything else 27
const ids = Int32Array.from(mobyParagraphs(1).join(' ').toLowerCase(), (ch) => {
  const c = ch.charCodeAt(0) - 97;
  return c >= 0 && c < 26 ? c : ch === ' ' ? 26 : 27;
});
const batchAt = (s: number): PackedBatch => ({ inputIds: ids.slice(s * 39, (s + 1) * 39), batch: 3, seqLen: 12 });

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
function expectSameMaps(got: Map<string, Float32Array>, want: Map<string, Float32Array>, what: string) {
  expect([...got.keys()], what).toEqual([...want.keys()]);
  for (const [name, w] of want) expect(bits(got.get(name)!).equals(bits(w)), `${what}: ${name}`).toBe(true);
}

// AdamW on one model: the gradients of each step (what every data-parallel rank would hold after the
// all-reduce, since their parameters are identical) and the parameters and state after each step
interface Reference {
  grads: Map<string, Float32Array>[];
  params: Map<string, Float32Array>[];
  states: AdamWState[];
}
let ref: Reference;
const copyState = (s: AdamWState): AdamWState => ({
  step: s.step,
  m: new Map([...s.m].map(([k, v]) => [k, v.slice()])),
  v: new Map([...s.v].map(([k, v]) => [k, v.slice()])),
});
beforeAll(() => {
  const model = Gpt.create(cfg, { seed: 11 });
  const opt = new AdamW(model.specs, opts);
  ref = { grads: [], params: [model.getParams()], states: [copyState(opt.getState())] };
  for (let s = 0; s < STEPS; s++) {
    const { grads } = computeGrads(model, batchAt(s), { objective: { kind: 'autoregressive' } });
    opt.apply(model, grads, lrAt(s));
    ref.grads.push(grads);
    ref.params.push(model.getParams());
    ref.states.push(copyState(opt.getState()));
  }
  model.dispose();
});

const groupOf = (w: number): Collective[] => (w === 1 ? [localCollective()] : memoryGroup(w));

/** Steps [from, to) on every rank at once, checking every rank against the reference after each. */
async function runSteps(opts: Optimizer[], models: Gpt[], from: number, to: number) {
  for (let s = from; s < to; s++) {
    await Promise.all(opts.map((o, r) => o.apply(models[r]!, ref.grads[s]!, lrAt(s))));
    for (let r = 0; r < models.length; r++) {
      expect(opts[r]!.step).toBe(s + 1);
      expectSameMaps(models[r]!.getParams(), ref.params[s + 1]!, `step ${s + 1}, rank ${r} of ${models.length}`);
    }
  }
}

describe('ZeroAdamW', () => {
  for (const w of [1, 2, 3]) {
    it(`world size ${w}: every rank holds AdamW's parameters bit for bit after every step`, async () => {
      const models = Array.from({ length: w }, () => Gpt.create(cfg, { seed: 11 }));
      const zs = groupOf(w).map((c) => new ZeroAdamW(models[0]!.specs, opts, c));
      // the shards partition the flat space, and the moments kept are only the shard's
      const total = zs[0]!.layout.total;
      expect(zs.map((z) => z.shard[0])).toEqual([0, ...zs.slice(0, -1).map((z) => z.shard[1])]);
      expect(zs[w - 1]!.shard[1]).toBe(total);
      for (const z of zs) expect(z.stateBytes).toBe(8 * (z.shard[1] - z.shard[0]));
      // the interesting case: a shard boundary inside a parameter, which two ranks then update in part
      if (w === 3) expect(zs[0]!.layout.segments(zs[1]!.shard[0] - 1, zs[1]!.shard[0] + 1)).toHaveLength(1);
      await runSteps(zs, models, 0, STEPS);
      for (const m of models) m.dispose();
    });
  }

  it("fullState gathers AdamW's state on every rank; AdamWOptimizer gives AdamW's state too", async () => {
    const models = Array.from({ length: 3 }, () => Gpt.create(cfg, { seed: 11 }));
    const zs = memoryGroup(3).map((c) => new ZeroAdamW(models[0]!.specs, opts, c));
    await runSteps(zs, models, 0, 3);
    const states = await Promise.all(zs.map((z) => z.fullState()));
    for (const [r, st] of states.entries()) {
      expect(st.step).toBe(3);
      expectSameMaps(st.m, ref.states[3]!.m, `m on rank ${r}`);
      expectSameMaps(st.v, ref.states[3]!.v, `v on rank ${r}`);
    }
    const model = Gpt.create(cfg, { seed: 11 });
    const adapted = new AdamWOptimizer(model.specs, opts);
    await runSteps([adapted], [model], 0, 3);
    const st = await adapted.fullState();
    expectSameMaps(st.m, ref.states[3]!.m, 'AdamWOptimizer m');
    expectSameMaps(st.v, ref.states[3]!.v, 'AdamWOptimizer v');
    for (const m of [...models, model]) m.dispose();
  });

  it('a state saved at world size 2 resumes at 3, and one saved at 3 resumes on plain AdamW, identically', async () => {
    const two = Array.from({ length: 2 }, () => Gpt.create(cfg, { seed: 11 }));
    const z2 = memoryGroup(2).map((c) => new ZeroAdamW(two[0]!.specs, opts, c));
    await runSteps(z2, two, 0, 2);
    const [saved] = await Promise.all(z2.map((z) => z.fullState()));
    const params = two[0]!.getParams();
    // resumed models start from the checkpointed parameters (a different seed: nothing is drawn)
    const three = Array.from({ length: 3 }, () => Gpt.create(cfg, { seed: 99, values: params }));
    const z3 = memoryGroup(3).map((c) => new ZeroAdamW(three[0]!.specs, opts, c));
    for (const z of z3) z.setState(saved!);
    await runSteps(z3, three, 2, 4);
    const [saved3] = await Promise.all(z3.map((z) => z.fullState()));
    const one = Gpt.create(cfg, { seed: 99, values: three[0]!.getParams() });
    const plain = new AdamWOptimizer(one.specs, opts);
    plain.setState(saved3!);
    await runSteps([plain], [one], 4, STEPS);
    for (const m of [...two, ...three, one]) m.dispose();
  });

  it('excludes the configured kinds from weight decay and decays the rest by 1 - lr wd exactly', async () => {
    const check = async (o: AdamWOptions, excluded: readonly string[]) => {
      const models = Array.from({ length: 3 }, () => Gpt.create(cfg, { seed: 5 }));
      const zs = memoryGroup(3).map((c) => new ZeroAdamW(models[0]!.specs, o, c));
      const before = models[0]!.getParams();
      const zero = new Map([...before].map(([k, v]) => [k, new Float32Array(v.length)]));
      await Promise.all(zs.map((z, r) => z.apply(models[r]!, zero, 0.1)));
      // zero gradients: m = v = 0, so only decay moves a parameter
      const factor = 1 - 0.1 * (o.weightDecay ?? 0.1);
      for (const [r, model] of models.entries()) {
        for (const [name, after] of model.getParams()) {
          const spec = model.specs.find((s) => s.name === name)!;
          const b = before.get(name)!;
          const want = excluded.includes(spec.kind) ? b : b.map((x) => x * factor);
          expect(zs[r]!.decays(spec), name).toBe(!excluded.includes(spec.kind));
          expect(bits(after).equals(bits(want)), `${name} on rank ${r}`).toBe(true);
        }
      }
      for (const m of models) m.dispose();
    };
    await check({ weightDecay: 0.5, noDecay: ['bias', 'norm', 'embedding'] }, ['bias', 'norm', 'embedding']);
    await check({}, ['bias', 'norm']); // AdamW's defaults: embeddings decay
  });

  it('a missing or mis-sized gradient fails on every rank before any collective, naming the parameter', async () => {
    const models = Array.from({ length: 2 }, () => Gpt.create(cfg, { seed: 11 }));
    const zs = memoryGroup(2).map((c) => new ZeroAdamW(models[0]!.specs, opts, c));
    const missing = new Map(ref.grads[0]!);
    missing.delete('h.1.attn.c_proj.bias');
    const results = await Promise.allSettled(zs.map((z, r) => z.apply(models[r]!, missing, 1e-2)));
    for (const res of results)
      expect(res.status === 'rejected' && String(res.reason)).toMatch(/no gradient for h\.1\.attn\.c_proj\.bias/);
    const short = new Map(ref.grads[0]!);
    short.set('wpe.weight', new Float32Array(4));
    await expect(zs[0]!.apply(models[0]!, short, 1e-2)).rejects.toThrow(
      /gradient of wpe\.weight has 4 values, the parameter 192/,
    );
    expect(zs.map((z) => z.step)).toEqual([0, 0]);
    expect(() => zs[0]!.setState({ step: 1, m: new Map(), v: new Map() })).toThrow(/m of wte\.weight is missing/);
    for (const m of models) m.dispose();
  });
});
