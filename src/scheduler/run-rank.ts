// This process as one rank of a multi-process run (`flowlm train --rank R --world-size W --master
// ADDR:PORT`, or torchrun's variables): meet the other ranks over TCP (rank 0 listens on the master
// port), run the pipeline with that `dist`, and, when a launcher forked us (launch-processes.ts), take
// its stop requests and hand it the result over the IPC channel.
import { localCollective, socketCollective, type Collective } from '../runtime/collectives/index.ts';
import type { Dist } from '../nn/train/dist.ts';
import type { TrainPipeline, TrainPipelineOptions, TrainPipelineResult } from '../nn/train/trainer.ts';
import type { RankSpec } from './rank-env.ts';
import { listenForStop, sendResult } from './rank-ipc.ts';

export interface RankRunOptions {
  sets: string[];
  resume: boolean;
  /** aborted by this process's signals, and by the launcher's stop request */
  stop: AbortController;
  hooks: TrainPipelineOptions['hooks'];
  /** how long to wait for the other ranks to connect (default: the transport's) */
  timeoutMs?: number;
}

export async function runAsRank(run: TrainPipeline, spec: RankSpec, o: RankRunOptions): Promise<TrainPipelineResult> {
  // one device = one core: N processes on N cores leave none for the output head's helper thread
  if (spec.worldSize > 1) process.env.FLOWLM_HEAD_THREAD ??= '0';
  const unlisten = listenForStop(() => o.stop.abort());
  let collective: Collective | undefined;
  try {
    collective =
      spec.worldSize === 1
        ? localCollective()
        : await socketCollective({
            rank: spec.rank,
            worldSize: spec.worldSize,
            master: spec.master,
            timeoutMs: o.timeoutMs,
          });
    const dist: Dist = { rank: spec.rank, worldSize: spec.worldSize, collective };
    const result = await run({ sets: o.sets, resume: o.resume, hooks: o.hooks, dist });
    await collective.close();
    await sendResult(result);
    return result;
  } catch (err) {
    collective?.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  } finally {
    unlisten();
  }
}
