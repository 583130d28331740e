// A training pipeline on N worker threads of this process, one rank each (--devices cpu:N). The
// threads meet through a thread group (SharedArrayBuffer collectives); rank 0's log lines and progress
// come back here to be printed; a stop (SIGINT/SIGTERM here) goes to every rank. When one rank throws
// or its thread dies, the group is aborted (every rank blocked in a collective wakes with an error
// naming it), the others get a short grace to finish their cleanup and are then terminated, and the
// launch rejects with an error naming the rank and its cause.
import { resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { CollectiveError, createThreadGroup } from '../runtime/collectives/index.ts';
import { tsWorker } from '../runtime/thread-boot.ts';
import type { StepProgress, TrainPipelineResult } from '../nn/train/trainer.ts';
import type { PhysicalPlan } from './plan-types.ts';
import type { RankData, RankFailure, ToMain, ToRank } from './rank-messages.ts';

export interface LaunchThreadsOptions {
  /** the training pipeline module */
  file: string;
  worldSize: number;
  sets: string[];
  resume: boolean;
  hooks?: { log?(line: string): void; onStep?(p: StepProgress): void; signal?: AbortSignal };
  /** the physical plan every rank runs (a spec file) */
  plan?: PhysicalPlan;
  /** how long the surviving ranks get after a failure before they are terminated (default 2000 ms) */
  graceMs?: number;
}

const ENTRY = new URL('./rank-thread.ts', import.meta.url).href;

const describe = (f: RankFailure): string => `${f.name && f.name !== 'Error' ? `${f.name}: ` : ''}${f.message}`;

export function launchThreads(o: LaunchThreadsOptions): Promise<TrainPipelineResult> {
  const { worldSize } = o;
  if (!Number.isInteger(worldSize) || worldSize < 1)
    throw new Error(`launchThreads: worldSize must be a whole number >= 1, got ${worldSize}`);
  const group = createThreadGroup(worldSize);
  const file = resolve(o.file);
  const graceMs = o.graceMs ?? 2000;

  return new Promise<TrainPipelineResult>((resolvePromise, reject) => {
    const workers: Worker[] = [];
    const finished = new Set<number>();
    const exited = new Set<number>();
    /** ranks with nothing left to do: they reported an outcome, or their thread is gone */
    const over = new Set<number>();
    let result: TrainPipelineResult | undefined;
    let failure: CollectiveError | undefined;
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;

    const onStop = () => {
      for (const w of workers) w.postMessage({ type: 'stop' } satisfies ToRank);
    };
    const settle = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(graceTimer);
      o.hooks?.signal?.removeEventListener('abort', onStop);
      if (err) reject(err);
      else resolvePromise(result!);
    };
    const terminateAll = async () => {
      await Promise.allSettled(workers.map((w, r) => (exited.has(r) ? undefined : w.terminate())));
    };

    const fail = (rank: number, cause: RankFailure) => {
      if (failure || settled) return;
      // a rank woken by a collective that a peer broke reports the peer: blame the rank that broke
      const blamed = cause.failedRank !== undefined && cause.failedRank !== rank ? cause.failedRank : rank;
      const err = new CollectiveError(
        blamed,
        `training rank ${blamed} of ${worldSize} failed${blamed === rank ? '' : ` (reported by rank ${rank})`}: ${describe(cause)}`,
        { cause: Object.assign(new Error(cause.message), { name: cause.name, stack: cause.stack }) },
      );
      failure = err;
      group.abort(err);
      // the others wake with a CollectiveError and end on their own; whoever has not after the grace is stopped
      graceTimer = setTimeout(() => {
        void terminateAll().then(() => settle(err));
      }, graceMs);
      endIfAllOver();
    };
    // after a failure: once every rank has reported or exited, the rest of the grace is not needed
    const endIfAllOver = () => {
      if (failure && over.size === worldSize) void terminateAll().then(() => settle(failure));
    };
    const onMessage = (rank: number) => (m: ToMain) => {
      if (m.type === 'log') o.hooks?.log?.(m.line);
      else if (m.type === 'step') o.hooks?.onStep?.(m.progress);
      else if (m.type === 'failed') {
        over.add(rank);
        fail(rank, m.error);
        endIfAllOver();
      } else if (m.type === 'done') {
        over.add(rank);
        endIfAllOver();
        finished.add(rank);
        if (rank === 0) result = m.result;
        if (finished.size === worldSize && !failure) {
          // every pipeline returned: threads kept alive by leftover handles are not waited for
          void terminateAll().then(() =>
            settle(result ? undefined : new Error('training rank 0 finished without a result')),
          );
        }
      }
    };

    for (let rank = 0; rank < worldSize; rank++) {
      const workerData: RankData = {
        rank,
        worldSize,
        handle: group.handles[rank],
        file,
        sets: o.sets,
        resume: o.resume,
        plan: o.plan,
      };
      // one device = one core: the rank does not start the output head's helper thread
      const w = tsWorker(ENTRY, { workerData, env: { ...process.env, FLOWLM_HEAD_THREAD: '0' } });
      workers.push(w);
      group.watch(w, rank);
      w.on('message', onMessage(rank));
      w.on('error', (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        fail(rank, { name: e.name, message: e.message, stack: e.stack });
      });
      w.on('exit', (code) => {
        exited.add(rank);
        over.add(rank);
        if (!finished.has(rank))
          fail(rank, {
            name: 'Error',
            message: `its thread exited${code === 0 ? '' : ` with code ${code}`} before the pipeline finished`,
          });
        endIfAllOver();
      });
    }
    if (o.hooks?.signal?.aborted) onStop();
    o.hooks?.signal?.addEventListener('abort', onStop);
  });
}
