// Learning rate: linear warm-up to maxLr, then cosine decay to minLr at totalSteps, flat after.
export interface CosineSchedule {
  maxLr: number;
  minLr: number;
  warmupSteps: number;
  totalSteps: number;
}

/** The rate for optimizer step `step` (0-based): warm-up reaches maxLr at step warmupSteps - 1. */
export function cosineLr(s: CosineSchedule, step: number): number {
  if (step < s.warmupSteps) return (s.maxLr * (step + 1)) / s.warmupSteps;
  if (step >= s.totalSteps) return s.minLr;
  const ratio = (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps);
  return s.minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (s.maxLr - s.minLr);
}
