// Reliability diagrams of a task's calibration metrics: each metric named `ece` (or ending in `_ece`)
// whose items are calibration items, {confidence, correct} per document or per token (arrays), drawn
// as one SVG (metrics/reliability-svg.ts) from the same 15 bins the ECE used.
import type { TaskItems } from '../../src/eval/run-tasks.ts';
import { calibration } from './metrics/calibration.ts';
import { reliabilitySvg } from './metrics/reliability-svg.ts';

type Item = { confidence: number | ArrayLike<number>; correct: boolean | number | ArrayLike<number> };

const isItem = (x: unknown): x is Item => typeof x === 'object' && x !== null && 'confidence' in x && 'correct' in x;

/** Confidences and outcomes of calibration items, flattened. */
export function calibrationArrays(items: readonly unknown[]): [number[], number[]] {
  const conf: number[] = [];
  const ok: number[] = [];
  for (const it of items) {
    if (!isItem(it)) throw new TypeError(`calibration item ${JSON.stringify(it)} is not {confidence, correct}`);
    if (typeof it.confidence === 'number') {
      conf.push(it.confidence);
      ok.push(Number(it.correct));
    } else {
      const c = it.correct as ArrayLike<number>;
      for (let i = 0; i < it.confidence.length; i++) {
        conf.push(it.confidence[i]!);
        ok.push(Number(c[i]));
      }
    }
  }
  return [conf, ok];
}

/** [metric, svg] for each calibration metric of the task. */
export function reliabilityPlots(task: string, items: TaskItems): [string, string][] {
  const out: [string, string][] = [];
  for (const [metric, list] of items) {
    if (!(metric === 'ece' || metric.endsWith('_ece')) || list.length === 0 || !list.every(isItem)) continue;
    const c = calibration(...calibrationArrays(list));
    out.push([metric, reliabilitySvg(c, { title: `${task}: ${metric}` })]);
  }
  return out;
}
