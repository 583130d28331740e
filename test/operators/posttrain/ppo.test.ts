// PPO as a graph (posttrain/ppo resource, posttrain/ppo-* operators) on tiny random models
// (ppo-fixtures.ts): one iteration's metrics and trained weights equal, bit for bit, a hand-run of the
// library functions on the same seeds (ppo-hand-run.ts); pipelines/ppo.ts runs; several iterations run
// through runPipeline, and a crash or a stop request then --resume gives the uninterrupted run's
// metrics exactly (prompt cursor, adaptive KL coefficient, Rng, weights and moments restored).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import ppoPipeline from '../../../pipelines/ppo.ts';
import type { PipelineSpecInput } from '../../../src/graph/spec.ts';
import { loadModel } from '../../../src/nn/checkpoint/load-model.ts';
import {
  BASE,
  crashAt,
  dirFor,
  LAST_TOKEN_RM,
  metricsOf,
  onIteration,
  P,
  PROMPTS,
  R,
  run,
  spec,
} from './ppo-fixtures.ts';
import { handRun } from './ppo-hand-run.ts';
import { expectBatchInvariant, rowInvariant } from '../../nn/batch-invariance.ts';
import { TS_IMPORT } from '../../cli/spawn.ts';

describe('posttrain/ppo', () => {
  it("one iteration's metrics and weights equal a hand-run of the library functions", async () => {
    const dir = dirFor('one');
    const r = await run(spec(dir));
    expect(r.ok, r.error?.message).toBe(true);
    const got = metricsOf(dir).by[1]!;
    const want = await handRun();
    // the hand-run scores each rollout row alone, the run in a batch: the same bits where the matmul is
    // row-invariant, float32 rounding apart elsewhere (test/nn/batch-invariance.ts)
    const invariant = await rowInvariant();
    for (const k of Object.keys(want.metrics)) expectBatchInvariant(got[k], want.metrics[k]!, invariant);
    // the checkpoint's policy is the hand-run's, trained
    const trained = (await loadModel(dir)).model.getParams();
    let maxDiff = 0;
    let moved = 0;
    const start = (await loadModel(P)).model.getParams();
    for (const [name, v] of want.params) {
      const t = trained.get(name)!;
      for (let i = 0; i < v.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(t[i]! - v[i]!));
        moved = Math.max(moved, Math.abs(t[i]! - start.get(name)![i]!));
      }
    }
    expect(moved).toBeGreaterThan(1e-3);
    console.log(
      `ppo: trained weights against the hand-run's: max |diff| ${maxDiff} (row-invariant matmul: ${invariant})`,
    );
    if (invariant) expect(maxDiff).toBe(0);
    else expect(maxDiff).toBeLessThan(1e-3 * moved);
  });

  it('pipelines/ppo.ts runs as a spec (its models and sizes replaced)', async () => {
    const dir = dirFor('pipeline');
    const resources = structuredClone(ppoPipeline.resources) as {
      ppo: { kind: string; config: Record<string, unknown> };
    };
    Object.assign(resources.ppo.config, {
      ...{ policy: P, reward: R, runDir: dir },
      ...{ iterations: 2, maxTokens: 4, batchSize: 2, miniBatchSize: 1, ppoEpochs: 1 },
    });
    const r = await run({ ...ppoPipeline, resources } as PipelineSpecInput);
    expect(r.ok, r.error?.message).toBe(true);
    expect(metricsOf(dir).order).toEqual([1, 2]);
    expect(existsSync(join(dir, 'step-000002'))).toBe(true);
  });

  it("a kill between a checkpoint and its metrics line: the resumed run puts the checkpoint's rows back", async () => {
    const more = { iterations: 4, checkpointEvery: 2, batchSize: 3, klTarget: 0.01, klHorizon: 10 };
    const full = dirFor('window-ref');
    expect((await run(spec(full, more))).ok).toBe(true);
    const dir = dirFor('window');
    expect((await run(spec(dir, { ...more, iterations: 2 }))).ok).toBe(true);
    // the log as a kill right after the checkpoint of iteration 2 leaves it: without iteration 2's rows
    const log = join(dir, 'metrics.jsonl');
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    writeFileSync(log, `${lines.filter((l) => (JSON.parse(l) as { step: number }).step !== 2).join('\n')}\n`);
    expect(metricsOf(dir).order).toEqual([1]);
    const resumed = await run(spec(dir, more), { resume: true });
    expect(resumed.ok, resumed.error?.message).toBe(true);
    const got = metricsOf(dir);
    expect(got.order).toEqual([1, 2, 3, 4]);
    expect(got.by).toEqual(metricsOf(full).by);
  }, 120_000);

  it('SIGKILL in the middle of a run, then --resume: the same metrics as the uninterrupted run', async () => {
    const more = { iterations: 6, checkpointEvery: 2, batchSize: 3, klTarget: 0.01, klHorizon: 10 };
    const full = dirFor('kill-ref');
    expect((await run(spec(full, more))).ok).toBe(true);
    const dir = dirFor('kill');
    const child = spawn(
      process.execPath,
      [
        '--import',
        TS_IMPORT,
        'test/fixtures/ppo-run.ts',
        JSON.stringify({ ...BASE, ...more, runDir: dir }),
        JSON.stringify(PROMPTS),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, signal) => res(signal)));
    // killed as soon as its first checkpoint is complete: somewhere inside the next iterations
    const latest = join(dir, 'latest.json');
    for (let i = 0; i < 1200 && !existsSync(latest); i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGKILL');
    expect(await exited, err).toBe('SIGKILL');
    const at = (JSON.parse(readFileSync(latest, 'utf8')) as { step: number }).step;
    expect(at).toBeGreaterThanOrEqual(2);
    expect(at).toBeLessThan(6);
    const resumed = await run(spec(dir, more), { resume: true });
    expect(resumed.ok, resumed.error?.message).toBe(true);
    const got = metricsOf(dir);
    expect(got.order).toEqual([1, 2, 3, 4, 5, 6]);
    expect(got.by).toEqual(metricsOf(full).by);
  }, 120_000);

  it('raises the reward: a one-token response scored by its token, no KL penalty', async () => {
    const dir = dirFor('learn');
    const more = { iterations: 40, maxTokens: 1, topK: 8, lr: 3e-2, klCoef: 0, miniBatchSize: 2, scoreEos: false };
    const r = await run(spec(dir, { ...more, reward: LAST_TOKEN_RM }));
    expect(r.ok, r.error?.message).toBe(true);
    const scores = Object.values(metricsOf(dir).by).map((m) => m.score!);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    // the policy moves its mass onto the best-scored of its likely tokens: the last ten iterations
    // score well above the first ten, and the policy has drifted from the reference
    expect(mean(scores.slice(-10))).toBeGreaterThan(mean(scores.slice(0, 10)) + 2);
    expect(metricsOf(dir).by[40]!.kl).toBeGreaterThan(0.5);
  }, 120_000);

  it('runs iterations through the graph; a crash or a stop request then --resume gives the same metrics', async () => {
    // 3 of the 4 prompts per iteration: each iteration starts elsewhere in the list (the cursor matters)
    const more = { iterations: 4, checkpointEvery: 2, batchSize: 3, klTarget: 0.01, klHorizon: 10 };
    const full = dirFor('full');
    const a = await run(spec(full, more));
    expect(a.ok, a.error?.message).toBe(true);
    const ref = metricsOf(full);
    expect(ref.order).toEqual([1, 2, 3, 4]);
    // the policy moves away from the reference: KL 0 at iteration 1 only
    expect(ref.by[1]!.kl).toBe(0);
    for (const i of [2, 3, 4]) expect(ref.by[i]!.kl).not.toBe(0);
    expect(existsSync(join(full, 'metrics.parquet'))).toBe(true);
    expect(
      readdirSync(full)
        .filter((d) => d.startsWith('step-'))
        .sort(),
    ).toEqual(['step-000002', 'step-000004']);

    // killed during iteration 3 (after its update, before any checkpoint of it): resumes from 2
    const crashed = dirFor('crash');
    const c = await run(
      spec(crashed, more, [{ after: 'update', step: { id: 'crash', op: crashAt, config: { iteration: 3 } } }]),
    );
    expect(c.ok).toBe(false);
    expect(c.error?.message).toMatch(/simulated crash/);
    const resumed = await run(spec(crashed, more), { resume: true });
    expect(resumed.ok, resumed.error?.message).toBe(true);
    const after = metricsOf(crashed);
    expect(after.order).toEqual([1, 2, 3, 4]);
    expect(after.by).toEqual(ref.by);

    // a stop request during iteration 2: the run ends after it with a checkpoint, and resumes at 3
    const stopped = dirFor('stop');
    const stop = new AbortController();
    const s1 = await run(
      spec(stopped, more, [
        { after: 'rollout', step: { id: 'probe', op: onIteration(2, () => stop.abort()), config: {} } },
      ]),
      { stop: stop.signal },
    );
    expect(s1.ok, s1.error?.message).toBe(true);
    expect(metricsOf(stopped).order).toEqual([1, 2]);
    expect(existsSync(join(stopped, 'step-000002'))).toBe(true);
    const s2 = await run(spec(stopped, more), { resume: true });
    expect(s2.ok, s2.error?.message).toBe(true);
    expect(metricsOf(stopped).by).toEqual(ref.by);
    // resuming under another configuration is refused; a fresh run in a used directory too
    const bad = await run(spec(stopped, { ...more, cliprange: 0.1 }), { resume: true });
    expect(bad.error?.message).toMatch(/another configuration/);
    const again = await run(spec(stopped, more));
    expect(again.error?.message).toMatch(/already holds checkpoints/);
  });
});
