// Reading a training run directory in tests: per-step train losses from metrics.jsonl and the step of
// latest.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Train losses by step from the run's metrics.jsonl. */
export function trainLosses(runDir: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { step: number; split: string; name: string; value: number };
    if (r.split === 'train' && r.name === 'loss') out.set(r.step, r.value);
  }
  return out;
}

/** The step of the run's latest checkpoint (latest.json). */
export const latestStep = (runDir: string) =>
  (JSON.parse(readFileSync(join(runDir, 'latest.json'), 'utf8')) as { step: number }).step;
