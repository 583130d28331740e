// The config field every training-stage operator shares: the replica whose stages it runs (a live
// object, so these operators are built in code, as pipelines/train-tiny.ts does, not from JSON specs).
// Checked by shape, not instanceof: importing the replica's class would load tfjs into every process
// that merely lists the operators.
import { z } from 'zod';
import type { TrainReplica } from '../../src/nn/train/replica.ts';

const looksLikeReplica = (v: unknown): boolean => typeof v === 'object' && v !== null
  && ['forwardBackward', 'allReduce', 'optimizerStep', 'endStep', 'evaluate', 'checkpoint'].every((k) => typeof (v as Record<string, unknown>)[k] === 'function')
  && typeof (v as { pace?: { join?: unknown } }).pace?.join === 'function';

export const replicaField = z.custom<TrainReplica>(looksLikeReplica, {
  message: 'expected a TrainReplica (src/nn/train/replica.ts, TrainReplica.open(config, { dist, resume }))',
});

/** Whether a step-every-N action is due at `step` (always at the run's last step). */
export const dueAt = (every: number, step: number, last: boolean | undefined): boolean => last === true || (every > 0 && step % every === 0);
