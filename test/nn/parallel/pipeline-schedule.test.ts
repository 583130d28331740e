// The 1F1B schedule as a pure function, checked by running it: a simulation with one time unit per
// forward and per backward, where an action waits for what it depends on (F(m) on stage s-1, B(m) on
// stage s+1), must finish every action (no deadlock), keep the dependencies, never hold more than
// P-s micro-batches in flight on stage s, and take 2(M+P-1) units, so each stage idles (P-1)/(M+P-1)
// of the time — the bubble of Narayanan et al. 2021, eq. (1), for t_f = t_b.
import { describe, expect, it } from 'vitest';
import { bubbleFraction, oneFOneBSchedule, stageSchedule } from '../../../src/nn/parallel/pipeline-schedule.ts';

interface Done {
  F: number[][];
  B: number[][];
  makespan: number;
  maxInFlight: number[];
}

/** Runs the per-stage lists in lockstep time units; throws if no stage can move (a deadlock). */
function simulate(stages: number, micro: number): Done {
  const plan = oneFOneBSchedule(stages, micro);
  const next = new Array<number>(stages).fill(0);
  const F = Array.from({ length: stages }, () => new Array<number>(micro).fill(-1));
  const B = Array.from({ length: stages }, () => new Array<number>(micro).fill(-1));
  const inFlight = new Array<number>(stages).fill(0);
  const maxInFlight = new Array<number>(stages).fill(0);
  let t = 0;
  while (next.some((n, s) => n < plan[s]!.length)) {
    const ready = plan.map((list, s) => {
      const a = list[next[s]!];
      if (!a) return undefined;
      // results of time t are usable from t + 1
      const dep =
        a.kind === 'F' ? (s === 0 ? 0 : F[s - 1]![a.micro]!) : s === stages - 1 ? F[s]![a.micro]! : B[s + 1]![a.micro]!;
      return dep >= 0 && dep <= t ? a : undefined;
    });
    if (!ready.some(Boolean)) throw new Error(`deadlock at time ${t}`);
    ready.forEach((a, s) => {
      if (!a) return;
      (a.kind === 'F' ? F : B)[s]![a.micro] = t + 1;
      inFlight[s]! += a.kind === 'F' ? 1 : -1;
      maxInFlight[s] = Math.max(maxInFlight[s]!, inFlight[s]!);
      next[s]!++;
    });
    t++;
  }
  return { F, B, makespan: t, maxInFlight };
}

describe('1F1B schedule', () => {
  for (const P of [1, 2, 4])
    for (const M of [1, 4, 8])
      it(`P=${P}, M=${M}: dependencies kept, at most P-s in flight, bubble (P-1)/(M+P-1)`, () => {
        const plan = oneFOneBSchedule(P, M);
        for (let s = 0; s < P; s++) {
          const list = plan[s]!;
          expect(list).toEqual(stageSchedule(P, M, s));
          // each micro-batch once forward and once backward, F before B, backwards in order
          for (let m = 0; m < M; m++) {
            const f = list.findIndex((a) => a.kind === 'F' && a.micro === m);
            const b = list.findIndex((a) => a.kind === 'B' && a.micro === m);
            expect(f).toBeGreaterThanOrEqual(0);
            expect(b).toBeGreaterThan(f);
          }
          expect(list.length).toBe(2 * M);
          expect(list.filter((a) => a.kind === 'B').map((a) => a.micro)).toEqual([...Array(M).keys()]);
          // warm-up: min(P-1-s, M) forwards before the first backward
          expect(list.findIndex((a) => a.kind === 'B')).toBe(Math.min(P - 1 - s, M - 1) + 1);
        }
        const run = simulate(P, M);
        for (let s = 0; s < P; s++)
          for (let m = 0; m < M; m++) {
            if (s + 1 < P) expect(run.F[s]![m]!).toBeLessThan(run.F[s + 1]![m]!);
            if (s + 1 < P) expect(run.B[s + 1]![m]!).toBeLessThan(run.B[s]![m]!);
            expect(run.F[s]![m]!).toBeLessThan(run.B[s]![m]!);
          }
        run.maxInFlight.forEach((k, s) => expect(k, `stage ${s}`).toBeLessThanOrEqual(P - s));
        // with unit forward and backward times, each stage is busy 2M of the 2(M+P-1) units
        expect(run.makespan).toBe(2 * (M + P - 1));
        expect(1 - (2 * M) / run.makespan).toBeCloseTo(bubbleFraction(P, M), 12);
        expect(bubbleFraction(P, M)).toBe((P - 1) / (M + P - 1));
      });

  it('rejects bad arguments, naming them', () => {
    expect(() => oneFOneBSchedule(0, 4)).toThrow(/stages must be an integer >= 1, got 0/);
    expect(() => oneFOneBSchedule(2, 0)).toThrow(/micro-batches must be an integer >= 1, got 0/);
    expect(() => stageSchedule(2, 4, 2)).toThrow(/stage must be an integer in \[0, 2\), got 2/);
  });
});
