// The 1F1B pipeline schedule (PipeDream-Flush, as Megatron-LM runs it; Narayanan et al. 2021) as a
// pure function: per stage, the order of its forward (F) and backward (B) passes over M micro-batches.
// Stage s first runs P-1-s warm-up forwards (so the last stage starts backwards at once), then
// alternates one forward and one backward, then drains the remaining backwards. At most P-s
// micro-batches are ever in flight on stage s (forwarded, not yet backwarded): that bound, rather
// than M, is what the stage's kept activations cost. Idle time per stage is (P-1) slots of a
// forward plus a backward out of M+P-1, the bubble (P-1)/(M+P-1).

export interface PipeAction {
  kind: 'F' | 'B';
  /** micro-batch index, 0-based */
  micro: number;
}

function check(stages: number, micro: number): void {
  if (!Number.isInteger(stages) || stages < 1)
    throw new Error(`1F1B schedule: stages must be an integer >= 1, got ${stages}`);
  if (!Number.isInteger(micro) || micro < 1)
    throw new Error(`1F1B schedule: micro-batches must be an integer >= 1, got ${micro}`);
}

/** The actions of stage `stage` of `stages`, in the order it runs them. */
export function stageSchedule(stages: number, micro: number, stage: number): PipeAction[] {
  check(stages, micro);
  if (!Number.isInteger(stage) || stage < 0 || stage >= stages)
    throw new Error(`1F1B schedule: stage must be an integer in [0, ${stages}), got ${stage}`);
  const warmup = Math.min(stages - 1 - stage, micro);
  const out: PipeAction[] = [];
  for (let m = 0; m < warmup; m++) out.push({ kind: 'F', micro: m });
  // steady state: each forward is followed by the backward of the oldest micro-batch in flight
  for (let i = 0; i < micro - warmup; i++) out.push({ kind: 'F', micro: warmup + i }, { kind: 'B', micro: i });
  for (let m = micro - warmup; m < micro; m++) out.push({ kind: 'B', micro: m });
  return out;
}

/** Every stage's actions: result[s] is stage s's list. */
export function oneFOneBSchedule(stages: number, micro: number): PipeAction[][] {
  check(stages, micro);
  return Array.from({ length: stages }, (_, s) => stageSchedule(stages, micro, s));
}

/** The idle fraction of each stage when a forward and a backward take the same time on every stage:
 * (P-1)/(M+P-1). */
export function bubbleFraction(stages: number, micro: number): number {
  check(stages, micro);
  return (stages - 1) / (micro + stages - 1);
}
