// `flowlm tune` on real short trainings (the micro GPT on fixture shards, a few steps each): trials
// as processes recorded in the store, the objective read from their runs, pruning through the store,
// reproducibility from the seed, and resuming a study whose tuner was killed.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/runs/store.ts';
import { writeTrainShards } from '../fixtures/train-shards.ts';
import { flowlm, lastJson, start } from './spawn.ts';
import { microTrainSets } from '../fixtures/micro-train-sets.ts';
import { randomSampler } from '../../src/tune/samplers/random.ts';
import { parseSearchSpace } from '../../src/tune/space.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-tune-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true, maxRetries: 5 }));
const shards = join(tmp, 'shards');
const space = join(tmp, 'space.json');
beforeAll(async () => {
  await writeTrainShards(shards, 4, 32, 64);
  writeFileSync(
    space,
    JSON.stringify({
      'optimizer.lr.max': { type: 'log-uniform', low: 1e-4, high: 3e-2 },
      'optimizer.lr.warmupSteps': { type: 'int', low: 0, high: 4 },
    }),
  );
});

const base = (steps: number, evalEvery = 0) =>
  [
    ...microTrainSets(shards),
    'optimizer.lr.min=1e-5',
    `trainer.steps=${steps}`,
    `trainer.evalEvery=${evalEvery}`,
    'trainer.evalBatches=2',
    'trainer.checkpointEvery=1000',
  ].flatMap((s) => ['--set', s]);

interface Summary {
  study: string;
  studyId: string;
  best: { number: number; value: number; params: Record<string, number> } | null;
  trials: { number: number; state: string; params: Record<string, number>; value: number | null }[];
}

describe('flowlm tune', () => {
  it('runs trials as recorded runs of a study, reads the objective from the store, and samples from its seed', async () => {
    const store = join(tmp, 'a.sqlite');
    const tune = (study: string) =>
      flowlm([
        'tune',
        'pipelines/train-tiny.ts',
        '--space',
        space,
        '--trials',
        '3',
        '--parallel',
        '2',
        '--devices',
        'cpu:2',
        '--sampler',
        'random',
        '--pruner',
        'none',
        '--seed',
        '7',
        '--study',
        study,
        '--out',
        join(tmp, study),
        '--store',
        store,
        '--json',
        ...base(3),
      ]);
    const r1 = await tune('s1');
    expect(r1.code, r1.stderr).toBe(0);
    const s1 = lastJson(r1.stdout) as unknown as Summary;
    expect(s1.trials.map((t) => t.state)).toEqual(['complete', 'complete', 'complete']);
    // the seed gives the params: trial n's are the seeded sampler's for trial n, whichever trial ended first
    const sampler = randomSampler({ seed: 7 });
    const expected = parseSearchSpace(readFileSync(space, 'utf8'));
    expect(s1.trials.map((t) => t.params)).toEqual([0, 1, 2].map((n) => sampler.sample(expected, [], n)));
    const db = RunStore.open(store);
    try {
      const study = db.study('s1')!;
      const runs = db.trials(study.id);
      expect(runs.map((r) => r.trial)).toEqual([0, 1, 2]);
      for (const [i, run] of runs.entries()) {
        expect(run.status).toBe('finished');
        const p = db.params(run.id);
        const lr = p['optimizer.lr.max'] as number;
        expect(lr).toBeGreaterThanOrEqual(1e-4);
        expect(lr).toBeLessThanOrEqual(3e-2);
        expect(Number.isInteger(p['optimizer.lr.warmupSteps'])).toBe(true);
        expect(s1.trials[i]!.params['optimizer.lr.max']).toBe(lr);
        // the objective is the run's last val/loss, and the trial's config has the trial's value
        expect(s1.trials[i]!.value).toBe(db.metrics(run.id, 'val/loss').at(-1)!.value);
        expect((run.config as { lr: { max: number } }).lr.max).toBe(lr);
        expect(existsSync(join(tmp, 's1', `trial-00${i}`, 'metrics.jsonl'))).toBe(true);
      }
      const best = Math.min(...s1.trials.map((t) => t.value!));
      expect(s1.best!.value).toBe(best);
      expect(r1.stdout).toContain(`best: trial ${s1.best!.number}`);
      // the tune command is a run too: the best value after each trial
      const tuneRun = db.runs({ command: 'tune', params: { study: 's1' } })[0]!;
      expect(tuneRun.status).toBe('finished');
      expect(db.metrics(tuneRun.id, 'best/val/loss').at(-1)!.value).toBe(best);
    } finally {
      db.close();
    }
  }, 120_000);

  it('prunes a trial whose values are worse than the median of the earlier trials (median pruner)', async () => {
    const store = join(tmp, 'b.sqlite');
    const r = await flowlm([
      'tune',
      'pipelines/train-tiny.ts',
      '--space',
      space,
      '--trials',
      '2',
      '--pruner',
      'median',
      '--pruner-option',
      'nStartupTrials=1',
      // a good trial, then one that cannot learn (lr 1e-4 with a long warm-up)
      '--enqueue',
      'optimizer.lr.max=0.01,optimizer.lr.warmupSteps=0',
      '--enqueue',
      'optimizer.lr.max=0.0001,optimizer.lr.warmupSteps=4',
      '--study',
      'p',
      '--out',
      join(tmp, 'p'),
      '--store',
      store,
      '--json',
      ...base(8, 1),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = lastJson(r.stdout) as unknown as Summary;
    expect(s.trials.map((t) => t.state)).toEqual(['complete', 'pruned']);
    expect(r.stderr).toMatch(/trial 1 pruned at step \d+/);
    const db = RunStore.open(store);
    try {
      const runs = db.trials(db.study('p')!.id);
      expect(runs.map((x) => x.status)).toEqual(['finished', 'pruned']);
      // stopped early: fewer val/loss reports than the complete trials
      expect(db.metrics(runs[1]!.id, 'val/loss').length).toBeLessThan(db.metrics(runs[0]!.id, 'val/loss').length);
    } finally {
      db.close();
    }
  }, 120_000);

  it('resumes a study whose tuner was SIGKILLed: interrupted trials run again, finished ones are kept', async () => {
    const store = join(tmp, 'c.sqlite');
    const args = [
      'tune',
      'pipelines/train-tiny.ts',
      '--space',
      space,
      '--trials',
      '2',
      '--sampler',
      'random',
      '--pruner',
      'none',
      '--study',
      'r',
      '--out',
      join(tmp, 'r'),
      '--store',
      store,
      ...base(10),
    ];
    const first = start(args);
    await first.until(() => /trial 1 started/.test(first.stderr()), 60_000);
    first.child.kill('SIGKILL');
    await first.done;
    const again = await flowlm(['tune', '--study', 'r', '--store', store, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('resuming study "r"');
    const s = lastJson(again.stdout) as unknown as Summary;
    expect(s.trials.map((t) => t.state)).toEqual(['complete', 'complete']);
    const db = RunStore.open(store);
    try {
      const runs = db.trials(db.study('r')!.id);
      // trial 1 twice: the interrupted run (failed or killed, not left running) and its re-run, same params
      const ones = runs.filter((x) => x.trial === 1);
      expect(ones.length).toBe(2);
      expect(['failed', 'killed']).toContain(ones[0]!.status);
      expect(ones[1]!.status).toBe('finished');
      expect(db.params(ones[1]!.id)).toEqual(db.params(ones[0]!.id));
      expect(runs.filter((x) => x.trial === 0).length).toBe(1);
      expect(db.runs({ status: 'running' }).map((x) => `${x.name} ${x.pid}`)).toEqual([]);
    } finally {
      db.close();
    }
  }, 120_000);
});
