// The entry of one rank's worker thread (started by launch-threads.ts): joins the thread group, loads
// the training pipeline module and runs it as rank `rank` of `worldSize`. Rank 0 forwards its log
// lines and step progress to the main thread, which prints them; a 'stop' message from the main
// thread (SIGINT/SIGTERM there) aborts this rank's hooks.signal and the trainer agrees on the stop
// step with the other ranks. The outcome goes back as one 'done' or 'failed' message.
import { parentPort, workerData } from 'node:worker_threads';
import { CollectiveError, threadCollective, type Collective, type ThreadHandle } from '../runtime/collectives/index.ts';
import type { Dist } from '../nn/train/dist.ts';
import type { TrainPipelineOptions } from '../nn/train/trainer.ts';
import { loadTrainPipeline } from './load-train-pipeline.ts';
import type { PhysicalPlan } from './plan-types.ts';
import type { RankData, RankFailure, ToMain, ToRank } from './rank-messages.ts';

const data = workerData as RankData;
const port = parentPort;
if (!port) throw new Error('rank-thread.ts runs only as a worker thread (started by launch-threads.ts)');
const post = (m: ToMain) => port.postMessage(m);

const failure = (err: unknown): RankFailure => {
  const e = err instanceof Error ? err : new Error(String(err));
  const failedRank = (e as { failedRank?: unknown }).failedRank;
  return {
    name: e.name,
    message: e.message,
    stack: e.stack,
    failedRank: typeof failedRank === 'number' ? failedRank : undefined,
  };
};

async function main(): Promise<void> {
  const stop = new AbortController();
  port!.on('message', (m: ToRank) => {
    if (m.type === 'stop') stop.abort();
  });
  const lead = data.rank === 0;
  let collective: Collective | undefined;
  try {
    const c = threadCollective(data.handle as ThreadHandle);
    collective = c;
    const dist: Dist = { rank: data.rank, worldSize: data.worldSize, collective: c };
    const run = await loadTrainPipeline(data.file, data.plan as PhysicalPlan | undefined);
    const options: TrainPipelineOptions = {
      sets: data.sets,
      resume: data.resume,
      dist,
      hooks: {
        signal: stop.signal,
        log: lead ? (line) => post({ type: 'log', line }) : undefined,
        onStep: lead ? (progress) => post({ type: 'step', progress }) : undefined,
      },
    };
    const result = await run(options);
    await c.close();
    post({ type: 'done', result: lead ? result : undefined });
  } catch (err) {
    // wake the other ranks now rather than when the main thread hears of it
    const f = failure(err);
    collective?.abort(
      err instanceof CollectiveError
        ? err
        : new CollectiveError(data.rank, `rank ${data.rank} failed: ${f.message}`, { cause: err }),
    );
    post({ type: 'failed', error: f });
  } finally {
    port!.removeAllListeners('message');
  }
}

void main();
