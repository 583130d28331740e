// PPO data parallel (posttrain/ppo over a process group): world size 2 against world size 1 on the
// fixtures of the PPO tests (ppo-fixtures.ts). Each rank rolls out half of every iteration's prompts,
// the advantages are whitened over both ranks' tokens and the gradients summed weighted by tokens, so
// the per-iteration metrics and the final policy equal world 1's to float32 rounding (the tolerance of
// the trainer's DDP test, test/nn/ddp.test.ts: 1e-5). Ranks in one thread over memoryGroup(2) (the
// ring all-reduce over in-memory links), and through the scheduler's rank threads (launchThreads)
// running pipelines/ppo.ts's `train` export as `flowlm run --devices cpu:2` does.
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../src/nn/checkpoint/load-model.ts';
import type { PpoConfigInput } from '../../../src/nn/ppo/ppo-config.ts';
import { memoryGroup } from '../../../src/runtime/collectives/memory-transport.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { launchThreads } from '../../../src/scheduler/launch-threads.ts';
import { dirFor, metricsOf, onIteration, P, R, run, spec, type Step } from './ppo-fixtures.ts';

const TOL = 1e-5;
const measured: Record<string, number> = {};
afterAll(() => console.log(`ppo world 2 vs world 1, max relative diffs: ${JSON.stringify(measured)}`));

/** world size 2: both ranks' graphs in this thread, joined by an in-memory ring */
async function world2(dir: string, more: Partial<PpoConfigInput>, o: { stop?: AbortSignal; extra?: Step[] } = {}) {
  const group = memoryGroup(2);
  const extra = (o.extra ?? []).map((step) => ({ after: 'rollout', step }));
  return Promise.all(
    group.map((collective, rank) =>
      runPipeline(spec(dir, more, extra), {
        log: () => undefined,
        // a stop request reaches rank 0 alone, as SIGINT reaches one thread
        scope: {
          rank,
          worldSize: 2,
          group: collective,
          resume: false,
          hooks: { stop: rank === 0 ? o.stop : undefined },
        },
      }),
    ),
  );
}

const rel = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));

/** the largest relative difference over every metric of every iteration; the iterations must match */
function metricDiff(a: Record<number, Record<string, number>>, b: Record<number, Record<string, number>>): number {
  expect(Object.keys(a)).toEqual(Object.keys(b));
  let worst = 0;
  for (const [it, row] of Object.entries(b)) {
    expect(Object.keys(a[Number(it)]!).sort()).toEqual(Object.keys(row).sort());
    // a metric near 0 (the clip fraction of a tiny step) is compared on the scale of 1
    for (const [k, v] of Object.entries(row)) worst = Math.max(worst, rel(a[Number(it)]![k]! + 1, v + 1));
  }
  return worst;
}

/** the largest difference of the final policies' parameters, relative to the largest parameter and to
 * the largest change training made */
async function paramDiff(a: string, b: string): Promise<{ ofParams: number; ofChange: number }> {
  const pa = (await loadModel(a)).model.getParams();
  const pb = (await loadModel(b)).model.getParams();
  const start = (await loadModel(P)).model.getParams();
  let diff = 0;
  let scale = 0;
  let moved = 0;
  for (const [name, v] of pb) {
    const u = pa.get(name)!;
    const s = start.get(name);
    for (let i = 0; i < v.length; i++) {
      diff = Math.max(diff, Math.abs(u[i]! - v[i]!));
      scale = Math.max(scale, Math.abs(v[i]!));
      moved = Math.max(moved, Math.abs(v[i]! - (s ? s[i]! : 0)));
    }
  }
  return { ofParams: diff / scale, ofChange: diff / moved };
}

// 3 iterations of 4 rollouts in minibatches of 2: a minibatch lies on one rank or on both
const MORE = { iterations: 3, checkpointEvery: 3, klTarget: 0.01, klHorizon: 10 } satisfies Partial<PpoConfigInput>;

describe('posttrain/ppo data parallel', () => {
  const cases: Array<[string, Partial<PpoConfigInput>]> = [
    ['whole policy', MORE],
    [
      'LoRA adapters, minibatches of 3, one epoch',
      { ...MORE, lora: { r: 2, targets: ['attn.c_attn'] }, miniBatchSize: 3, ppoEpochs: 1 },
    ],
  ];
  for (const [name, more] of cases)
    it(`world size 2 gives world size 1's metrics and final policy (${name})`, async () => {
      const one = dirFor('w1');
      const r1 = await run(spec(one, more));
      expect(r1.ok, r1.error?.message).toBe(true);
      const two = dirFor('w2');
      const rs = await world2(two, more);
      for (const r of rs) expect(r.ok, r.error?.message).toBe(true);
      const m1 = metricsOf(one).by;
      const m2 = metricsOf(two);
      expect(m2.order).toEqual([1, 2, 3]); // rank 0 alone logs: once per iteration
      expect(m1[2]!.kl).not.toBe(0); // the policy moved away from the reference
      const dm = metricDiff(m2.by, m1);
      const dp = await paramDiff(two, one);
      measured[`${name}: metrics`] = dm;
      measured[`${name}: params`] = dp.ofParams;
      measured[`${name}: params, of the change training made`] = dp.ofChange;
      expect(dm).toBeLessThan(TOL);
      expect(dp.ofParams).toBeLessThan(TOL);
      expect(dp.ofChange).toBeLessThan(1e-3);
      // the rollouts themselves are world 1's: same scores and lengths to float64 summation order
      for (const it of [1, 2, 3]) expect(m2.by[it]!.response_length).toBe(m1[it]!.response_length);
    }, 120_000);

  it('a batch that does not split over the ranks is refused, saying what to do', async () => {
    const rs = await world2(dirFor('odd'), { batchSize: 3 }).catch((e: unknown) => [e]);
    const msg = rs
      .map((r) => (r instanceof Error ? r.message : ((r as { error?: { message: string } }).error?.message ?? '')))
      .join('\n');
    expect(msg).toMatch(/batchSize 3 does not split over 2 ranks; make batchSize a multiple/);
  });

  it('a stop request on rank 0 alone stops both after the same iteration; world 1 resumes it', async () => {
    const ref = dirFor('stop-ref');
    expect((await run(spec(ref, MORE))).ok).toBe(true);
    const dir = dirFor('stop');
    const stop = new AbortController();
    const probe = { id: 'probe', op: onIteration(2, () => stop.abort()), config: {} } satisfies Step;
    const rs = await world2(dir, MORE, { stop: stop.signal, extra: [probe] });
    for (const r of rs) expect(r.ok, r.error?.message).toBe(true);
    expect(metricsOf(dir).order).toEqual([1, 2]);
    expect(existsSync(join(dir, 'step-000002'))).toBe(true);
    // elastic: the world 2 checkpoint continues at world 1
    const resumed = await run(spec(dir, MORE), { resume: true });
    expect(resumed.ok, resumed.error?.message).toBe(true);
    expect(metricsOf(dir).order).toEqual([1, 2, 3]);
    const d = metricDiff(metricsOf(dir).by, metricsOf(ref).by);
    measured['stop at 2 on world 2, resumed on world 1: metrics'] = d;
    expect(d).toBeLessThan(TOL);
  }, 120_000);

  it('pipelines/ppo.ts on 2 rank threads (as flowlm run --devices cpu:2) gives world 1 metrics', async () => {
    const file = fileURLToPath(new URL('../../../pipelines/ppo.ts', import.meta.url));
    const sets = (dir: string) => [
      `ppo.policy=${P}`,
      `ppo.reward=${R}`,
      `ppo.runDir=${dir}`,
      'ppo.iterations=2',
      'ppo.maxTokens=4',
      'ppo.batchSize=2',
      'ppo.miniBatchSize=1',
      'ppo.ppoEpochs=1',
    ];
    const one = dirFor('cli-1');
    const two = dirFor('cli-2');
    const steps: number[] = [];
    const r1 = await launchThreads({ file, worldSize: 1, sets: sets(one), resume: false });
    const r2 = await launchThreads({
      file,
      worldSize: 2,
      sets: sets(two),
      resume: false,
      hooks: { onStep: (p) => steps.push(p.step) },
    });
    expect(r2.step).toBe(2);
    expect(steps).toEqual([1, 2]);
    expect(r2.losses).toHaveLength(2);
    expect(r2.tokens).toBe(r1.tokens);
    const d = metricDiff(metricsOf(two).by, metricsOf(one).by);
    measured['pipelines/ppo.ts on rank threads: metrics'] = d;
    expect(d).toBeLessThan(TOL);
    expect(existsSync(join(two, 'step-000002'))).toBe(true);
  }, 120_000);
});
