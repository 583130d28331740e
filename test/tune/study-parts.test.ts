// The parts of `flowlm tune` around the algorithms: devices split among parallel trials, the sampler
// and pruner made from their names and options (an unknown option is an error, not ignored), the
// trial's command line, and the progress view (a table redrawn in place on a terminal, lines elsewhere).
import { describe, expect, it } from 'vitest';
import { tuneProgress, trialsTable } from '../../src/cli/tune-progress.ts';
import { makePruner, makeSampler, StrategyError } from '../../src/tune/strategy.ts';
import { trialDevices, TrialDevicesError } from '../../src/tune/trial-devices.ts';
import { trialArgs } from '../../src/tune/trial-process.ts';
import type { SearchSpace, TrialRecord } from '../../src/tune/types.ts';

const space: SearchSpace = {
  'optimizer.lr.max': { type: 'log-uniform', low: 1e-4, high: 1e-2 },
  'trainer.batchSize': { type: 'categorical', choices: [4, 8] },
};
const trial = (
  number: number,
  state: TrialRecord['state'],
  value?: number,
  steps: [number, number][] = [],
): TrialRecord => ({
  number,
  params: { 'optimizer.lr.max': 0.001 * (number + 1), 'trainer.batchSize': 4 },
  state,
  value,
  intermediate: new Map(steps),
});

describe('trial devices', () => {
  it('splits cpu:N into equal thread counts and a GPU list into equal groups', () => {
    expect(trialDevices('cpu:2', 2)).toEqual(['cpu:1', 'cpu:1']);
    expect(trialDevices('cpu:8', 3)).toEqual(['cpu:2', 'cpu:2', 'cpu:2']);
    expect(trialDevices('gpu:0,1,2,3', 2)).toEqual(['gpu:0,1', 'gpu:2,3']);
    expect(() => trialDevices('cpu:1', 2)).toThrow(TrialDevicesError);
    expect(() => trialDevices('gpu:0,1,2', 2)).toThrow(/equal/);
    expect(() => trialDevices('auto', 1)).toThrow(/cpu:N or gpu/);
  });
});

describe('strategy', () => {
  it('passes options to the sampler: nStartupTrials decides when TPE stops sampling at random', () => {
    const done = Array.from({ length: 4 }, (_, i) => ({ ...trial(i, 'complete', 1 + i) }));
    const random = makeSampler('random', space, { seed: 3, direction: 'minimize', options: {} });
    const tpe10 = makeSampler('tpe', space, { seed: 3, direction: 'minimize', options: {} });
    const tpe2 = makeSampler('tpe', space, { seed: 3, direction: 'minimize', options: { nStartupTrials: 2 } });
    // within its 10 startup trials TPE samples as random search does; with 2, trial 4 is TPE's own
    expect(tpe10.sample(space, done, 4)).toEqual(random.sample(space, done, 4));
    expect(tpe2.sample(space, done, 4)).not.toEqual(random.sample(space, done, 4));
  });

  it('passes options to the pruner and refuses unknown ones', () => {
    const done = [trial(0, 'complete', 1, [[1, 1]]), trial(1, 'complete', 1, [[1, 1]])];
    const bad = trial(2, 'running', undefined, [[1, 5]]);
    expect(makePruner('median', { direction: 'minimize', options: {} })!.shouldPrune(bad, 1, done)).toBe(false); // 5 startup trials
    expect(
      makePruner('median', { direction: 'minimize', options: { nStartupTrials: 2 } })!.shouldPrune(bad, 1, done),
    ).toBe(true);
    expect(makePruner('none', { direction: 'minimize', options: {} })).toBeUndefined();
    expect(() => makePruner('median', { direction: 'minimize', options: { nStartup: 2 } })).toThrow(StrategyError);
    expect(() => makeSampler('random', space, { seed: 0, direction: 'minimize', options: { x: 1 } })).toThrow(
      /takes none/,
    );
  });
});

describe('trial command line', () => {
  it("sets the study's values, then the trial's params, its run directory, devices and time limit", () => {
    const args = trialArgs({
      command: 'train',
      file: 'spec.ts',
      sets: ['trainer.steps=10'],
      params: { 'optimizer.lr.max': 0.003, 'model.activation': 'gelu' },
      runDirKey: 'trainer.runDir',
      runDir: '/tmp/t/trial-001',
      devices: 'cpu:1',
      timeLimitS: 60,
      store: '/tmp/s.sqlite',
      runId: 'abc',
    });
    expect(args.slice(0, 4)).toEqual(['train', 'spec.ts', '--devices', 'cpu:1']);
    expect(args.join(' ')).toContain('--time-limit 60');
    const sets = args.flatMap((a, i) => (args[i - 1] === '--set' ? [a] : []));
    expect(sets).toEqual([
      'trainer.steps=10',
      'optimizer.lr.max=0.003',
      'model.activation="gelu"',
      'trainer.runDir=/tmp/t/trial-001',
    ]);
  });
});

describe('progress', () => {
  const all = [
    trial(0, 'complete', 2.5, [
      [10, 3],
      [20, 2.5],
    ]),
    trial(1, 'running', undefined, [[10, 2.9]]),
  ];
  it('tables the trials: params, reports, best intermediate value, objective', () => {
    const [head, t0, t1] = trialsTable(all, 'val/loss', 'minimize');
    expect(head).toMatch(
      /^#\s+state\s+optimizer\.lr\.max\s+trainer\.batchSize\s+reports\s+best val\/loss\s+val\/loss$/,
    );
    expect(t0!.split(/\s+/)).toEqual(['0', 'complete', '0.001000', '4', '2', '2.500', '2.500']);
    expect(t1!.split(/\s+/)).toEqual(['1', 'running', '0.002000', '4', '1', '2.900', '-']);
  });

  it('redraws the table in place on a terminal and writes plain lines elsewhere', () => {
    const chunks = (isTTY: boolean) => {
      const out: string[] = [];
      const p = tuneProgress({ write: (s) => out.push(s) > 0, isTTY }, 'val/loss', 'minimize');
      p.onEvent({ type: 'started', trial: all[1]!, runId: 'r', devices: 'cpu:1' }, all);
      p.onEvent({ type: 'pruned', trial: all[1]!, step: 10 }, all);
      return out;
    };
    const tty = chunks(true);
    expect(tty[0]).not.toContain('\x1b[3A');
    expect(tty[1]).toMatch(/^\x1b\[3A/); // back up over the 3 lines drawn before
    expect(tty[1]).toContain('running');
    expect(chunks(false)).toEqual([
      'trial 1 started on cpu:1: optimizer.lr.max=0.002000 trainer.batchSize=4\n',
      'trial 1 pruned at step 10 (val/loss 2.900)\n',
    ]);
  });
});
