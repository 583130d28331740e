// What the main thread and the rank threads of a multi-threaded training run say to each other
// (launch-threads.ts <-> rank-thread.ts); everything here is structured-cloneable.
import type { StepProgress, TrainPipelineResult } from '../nn/train/trainer.ts';

/** A rank thread's workerData. */
export interface RankData {
  rank: number;
  worldSize: number;
  /** this rank's ThreadHandle from createThreadGroup (opaque here) */
  handle: unknown;
  /** the training pipeline module, an absolute path */
  file: string;
  sets: string[];
  resume: boolean;
  /** the physical plan every rank runs (a spec file) */
  plan?: unknown;
}

/** An error as it crosses threads: Error objects lose their class (and `failedRank`) when cloned. */
export interface RankFailure {
  name: string;
  message: string;
  stack?: string;
  /** the rank a CollectiveError blamed, when the error was one */
  failedRank?: number;
}

export type ToMain =
  | { type: 'log'; line: string }
  | { type: 'step'; progress: StepProgress }
  /** the pipeline returned; rank 0 sends its result */
  | { type: 'done'; result?: TrainPipelineResult }
  | { type: 'failed'; error: RankFailure };

export type ToRank = { type: 'stop' };
